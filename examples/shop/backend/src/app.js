import { encryptData } from '../utils/encryption.js';
import { HttpError, readJson, sendJson, withTimeout } from './http.js';

const HEALTH_TIMEOUT_MS = 2000; // below opsctl's default health-gate poll, so a hung dependency reads as 503
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

async function pingRedis(redis) {
  // without an offline queue ioredis' own message ("Stream isn't writeable") hides the cause
  if (redis.status !== 'ready') throw new Error(`redis not connected (${redis.status})`);
  return redis.ping();
}

/**
 * The request handler. Dependencies are passed in, so tests and other entry points can build it
 * with their own pool, Redis client and logger.
 * @param {{ pool: import('pg').Pool, redis?: import('ioredis').Redis, logger: object, corsOrigin?: string }} deps
 */
export function createApp({ pool, redis, logger, corsOrigin = '*' }) {
  const cors = { 'access-control-allow-origin': corsOrigin, vary: 'origin' };

  async function health(_req, res) {
    const [db, cache] = await Promise.allSettled([
      withTimeout(pool.query('select 1'), HEALTH_TIMEOUT_MS, 'database check'),
      redis ? withTimeout(pingRedis(redis), HEALTH_TIMEOUT_MS, 'redis check') : Promise.resolve('disabled'),
    ]);
    const body = {
      status: 'ok',
      db: db.status === 'fulfilled' ? 'ok' : 'error',
      redis: !redis ? 'disabled' : cache.status === 'fulfilled' ? 'ok' : 'error',
    };
    if (db.status === 'rejected') body.dbError = db.reason.message;
    if (cache.status === 'rejected') body.redisError = cache.reason.message;
    if (body.db === 'error' || body.redis === 'error') {
      body.status = 'error';
      logger.warn({ health: body }, 'health check failed');
      return sendJson(res, 503, body);
    }
    sendJson(res, 200, body);
  }

  async function listProducts(_req, res) {
    const { rows } = await pool.query('select id, sku, name, price_cents as "priceCents" from products order by id');
    sendJson(res, 200, rows, cors);
  }

  async function createOrder(req, res) {
    const body = await readJson(req);
    const productId = Number(body?.productId);
    const quantity = body?.quantity === undefined ? 1 : Number(body.quantity);
    const email = typeof body?.email === 'string' ? body.email.trim() : '';
    if (!Number.isInteger(productId) || productId <= 0)
      throw new HttpError(400, 'productId must be a positive integer');
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > 100)
      throw new HttpError(400, 'quantity must be 1 to 100');
    if (!EMAIL.test(email)) throw new HttpError(400, 'email must be an email address');
    let encrypted;
    try {
      encrypted = encryptData(email);
    } catch (err) {
      logger.error({ err }, 'cannot encrypt order email');
      throw new HttpError(503, 'orders are unavailable: the server has no valid ENCRYPTION_KEY');
    }
    try {
      const { rows } = await pool.query(
        'insert into orders (product_id, quantity, customer_email) values ($1, $2, $3) returning *',
        [productId, quantity, encrypted],
      );
      const { customer_email: _secret, product_id, created_at, ...rest } = rows[0];
      logger.info({ orderId: rows[0].id, productId }, 'order created');
      sendJson(res, 201, { ...rest, productId: product_id, createdAt: created_at }, cors);
    } catch (err) {
      if (err.code === '23503') throw new HttpError(404, `no product with id ${productId}`);
      throw err;
    }
  }

  const routes = {
    'GET /health': health,
    'GET /api/products': listProducts,
    'POST /api/orders': createOrder,
  };

  return async function handle(req, res) {
    const started = process.hrtime.bigint();
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    res.on('finish', () => {
      const responseTime = Number(process.hrtime.bigint() - started) / 1e6;
      const level = res.statusCode >= 500 ? 'error' : path === '/health' ? 'debug' : 'info';
      logger[level](
        { req: { method: req.method, url: req.url }, res: { statusCode: res.statusCode }, responseTime },
        'request completed',
      );
    });
    try {
      if (req.method === 'OPTIONS' && path.startsWith('/api/')) {
        res.writeHead(204, {
          ...cors,
          'access-control-allow-methods': 'GET, POST',
          'access-control-allow-headers': 'content-type',
        });
        return res.end();
      }
      const route = routes[`${req.method} ${path}`];
      if (!route) {
        const known = Object.keys(routes).some((key) => key.endsWith(` ${path}`));
        throw new HttpError(known ? 405 : 404, known ? `method ${req.method} not allowed` : `no route for ${path}`);
      }
      await route(req, res);
    } catch (err) {
      if (err instanceof HttpError) return sendJson(res, err.status, { error: err.message }, cors);
      logger.error({ err, req: { method: req.method, url: req.url } }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' }, cors);
      else res.destroy(err);
    }
  };
}
