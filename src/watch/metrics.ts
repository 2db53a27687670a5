import { createServer, type Server } from 'node:http';
import type { Gauge, Registry } from 'prom-client';
import { ExitCode, OpsError } from '../errors.js';
import type { Pm2Instance } from '../pm2/processes.js';
import { hitRate, type RedisCacheInfo } from '../redis/cache-info.js';
import type { RoundReport } from './types.js';

/** The gauges `watch --metrics` serves (README, "`opsctl watch`"), fed by the watch loop. */
export interface WatchMetrics {
  url: string;
  observeRound(reports: RoundReport[]): void;
  observeProcesses(instances: Pm2Instance[]): void;
  /** A Redis sample (the redis check's, each round): the hit ratio over the interval since the last one. */
  observeRedis(target: string, info: RedisCacheInfo): void;
  close(): Promise<void>;
}

/**
 * Serve Prometheus text on `127.0.0.1:<port>/metrics` with prom-client (one registry of our own, not the global
 * one). Loopback only: Prometheus on the machine, or a tunnel, reaches it; nothing else does.
 */
export async function serveMetrics(port: number): Promise<WatchMetrics> {
  const loaded = await import('prom-client');
  // Node's ESM loader exposes the named exports; the bundle's CommonJS interop only the default
  const prom = loaded.Registry ? loaded : (loaded as unknown as { default: typeof loaded }).default;
  const registry: Registry = new prom.Registry();
  // the watcher's own process (heap, RSS, event loop lag): its memory must stay flat over days of rounds
  prom.collectDefaultMetrics({ register: registry, prefix: 'opsctl_watch_' });
  const gauge = (name: string, help: string, labelNames: string[]): Gauge =>
    new prom.Gauge({ name, help, labelNames, registers: [registry] });
  const up = gauge('opsctl_check_up', '1 when the doctor check passes or warns, 0 when it fails', ['check']);
  const latency = gauge('opsctl_check_duration_seconds', 'How long the check took in the last round', ['check']);
  const restarts = gauge('opsctl_pm2_restarts', "PM2's restart count of the instance (reloads included)", [
    'package',
    'instance',
  ]);
  const memory = gauge('opsctl_process_memory_bytes', 'Resident memory of the instance', ['package', 'instance']);
  const cpu = gauge('opsctl_process_cpu_percent', 'CPU use of the instance, in percent', ['package', 'instance']);
  const hits = gauge('opsctl_redis_hit_ratio', 'Keyspace hit ratio over the last interval (0-1)', ['target']);
  const lastRedis = new Map<string, RedisCacheInfo>();

  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end('only GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new OpsError('METRICS_PORT', `Cannot serve metrics on 127.0.0.1:${port}: ${err.code ?? err.message}.`, {
          hint: 'Pick a free port for --metrics.',
          exitCode: ExitCode.failed,
          cause: err,
        }),
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });

  return {
    url: `http://127.0.0.1:${port}/metrics`,
    observeRound(reports) {
      for (const r of reports) {
        if (r.status === 'skip') continue;
        up.set({ check: r.id }, r.status === 'fail' ? 0 : 1);
        if (r.durationMs !== undefined) latency.set({ check: r.id }, r.durationMs / 1000);
      }
    },
    observeProcesses(instances) {
      for (const metric of [restarts, memory, cpu]) metric.reset(); // an instance gone is no longer reported
      for (const p of instances) {
        const labels = { package: p.name, instance: String(p.pmId) };
        restarts.set(labels, p.restarts);
        memory.set(labels, p.memoryBytes);
        cpu.set(labels, p.cpu);
      }
    },
    observeRedis(target, info) {
      const rate = hitRate(info, lastRedis.get(target));
      lastRedis.set(target, info);
      if (rate !== undefined) hits.set({ target }, rate);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
