import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createApp } from './src/app.js';
import { readKey } from './utils/encryption.js';
import { createLogger } from './utils/logger.js';

const DRAIN_MS = 1000; // how long kept-alive clients get to make their last request before idle connections close
const SHUTDOWN_TIMEOUT_MS = 10_000; // PM2 kills after 1.6 s by default (kill_timeout); raise it there for long requests
const logger = createLogger({ bindings: { name: 'shop-backend' } });

process.on('unhandledRejection', (reason) => {
  logger.fatal({ err: reason }, 'unhandled rejection');
  process.exit(1);
});
process.on('uncaughtException', (err, origin) => {
  logger.fatal({ err, origin }, 'uncaught exception');
  process.exit(1);
});

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  logger.fatal(
    'DATABASE_URL is not set. Set it to a postgres:// URL, or start the app with opsctl, which passes the configured (or embedded) database.',
  );
  process.exit(1);
}

try {
  readKey();
} catch (err) {
  // the API still serves products; only orders need the key
  logger.warn({ reason: err.message }, 'orders are disabled until ENCRYPTION_KEY is set');
}

const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, connectionTimeoutMillis: 5000 });
// an idle client losing its connection (database restart) must not crash the process
pool.on('error', (err) => logger.error({ err }, 'idle database connection failed'));

let redis;
if (process.env.REDIS_URL) {
  // no offline queue: while Redis is down, commands fail at once and /health reports it
  redis = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  let lastError;
  redis.on('ready', () => {
    lastError = undefined;
    logger.info('redis connected');
  });
  redis.on('error', (err) => {
    if (err.message !== lastError) logger.error({ err }, 'redis connection error'); // once per distinct error, not per retry
    lastError = err.message;
  });
}

// listen once Redis is ready (or after 3 s without it): in PM2 cluster mode a new worker gets requests as soon as it
// listens, so listening before it can answer /health would fail requests during every reload
if (redis && redis.status !== 'ready') {
  await new Promise((resolve) => {
    redis.once('ready', resolve);
    setTimeout(resolve, 3000).unref();
  });
}
const app = createApp({ pool, redis, logger, corsOrigin: process.env.CORS_ORIGIN || '*' });
const server = createServer((req, res) => {
  // while shutting down, each answer closes its kept-alive connection: the client's next request opens a new one,
  // which goes to a live worker, instead of racing the close of an idle connection (a reset the client sees)
  if (shuttingDown) res.setHeader('Connection', 'close');
  app(req, res);
});
const port = Number(process.env.PORT) || 4000;
server.listen(port, process.env.HOST, () => {
  logger.info({ port, redis: redis ? 'enabled' : 'disabled' }, `shop-backend listening on port ${port}`);
});
server.on('error', (err) => {
  logger.fatal({ err, port }, `cannot listen on port ${port}`);
  process.exit(1);
});

let shuttingDown = false;
async function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, 'shutting down');
  const timer = setTimeout(() => {
    logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out; exiting');
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS);
  timer.unref();
  // exit explicitly: a keep-alive socket or a client library's timer must not hold the process open
  try {
    await drainKeptAlive();
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    await closed;
    await pool.end();
    if (redis) await redis.quit().catch(() => redis.disconnect());
    logger.info('shutdown complete');
    process.exit(0);
  } catch (err) {
    logger.error({ err }, 'shutdown failed');
    process.exit(1);
  }
}
/** Up to DRAIN_MS for clients to take their `Connection: close` answer and go, before close() cuts idle connections. */
async function drainKeptAlive() {
  const until = Date.now() + DRAIN_MS;
  const open = () => new Promise((resolve) => server.getConnections((err, count) => resolve(err ? 0 : count)));
  while (Date.now() < until && (await open()) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
