import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeSmoke, staysHealthy, waitHealthy } from '../../src/app/health.js';

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.statusCode = req.url === '/health' ? 200 : req.url === '/private' ? 401 : req.url === '/boom' ? 500 : 503;
    res.end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise((done) => server.close(done)));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('waitHealthy against a real HTTP server', () => {
  it('is healthy after two good probes and one clean (slow) fatal check', async () => {
    const started = Date.now();
    let checks = 0;
    const fatal = async () => {
      checks++;
      await sleep(400);
      return undefined;
    };
    expect(await waitHealthy({ port, health: '/health' }, { timeoutMs: 5000, fatal })).toBeUndefined();
    expect(checks).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('ends the wait at once on a fatal problem while the probes still fail', async () => {
    const started = Date.now();
    const problem = await waitHealthy(
      { port, health: '/not-ready' },
      { timeoutMs: 10_000, fatal: async () => 'instance 0 is errored (15 restarts)' },
    );
    expect(problem).toBe('instance 0 is errored (15 restarts)');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('reports a failing fatal check (PM2 not answering) as the problem', async () => {
    const problem = await waitHealthy(
      { port, health: '/health' },
      {
        timeoutMs: 5000,
        fatal: async () => {
          throw new Error('PM2 did not list its processes');
        },
      },
    );
    expect(problem).toBe('PM2 did not list its processes');
  });

  it('times out with the last probe problem', async () => {
    const problem = await waitHealthy({ port, health: '/not-ready' }, { timeoutMs: 500 });
    expect(problem).toBe('GET /not-ready answered 503 after 500 ms');
  });
});

describe('smoke paths and the stability window', () => {
  it('passes when each path answers its status (default any 2xx)', async () => {
    expect(await probeSmoke({ port }, [{ path: '/health' }, { path: '/private', status: 401 }])).toBeUndefined();
  });

  it('names the first path that answered otherwise', async () => {
    expect(await probeSmoke({ port }, [{ path: '/health' }, { path: '/boom' }])).toBe(
      'smoke GET /boom answered 500 (expected 2xx)',
    );
    expect(await probeSmoke({ port }, [{ path: '/health', status: 401 }])).toBe(
      'smoke GET /health answered 200 (expected 401)',
    );
  });

  it('stays healthy for the whole window', async () => {
    const started = Date.now();
    expect(await staysHealthy({ port, health: '/health' }, { durationMs: 600 })).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it('fails at once when the target stops answering within the window', async () => {
    const other = createServer((_req, res) => res.end());
    await new Promise<void>((done) => other.listen(0, '127.0.0.1', done));
    const otherPort = (other.address() as { port: number }).port;
    setTimeout(() => other.close(), 300);
    const started = Date.now();
    const problem = await staysHealthy({ port: otherPort, health: 'tcp' }, { durationMs: 10_000 });
    expect(problem).toBe(`nothing listens on port ${otherPort} after it was healthy`);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
  it('a probe cut by a process dying is reported as the death PM2 sees a moment later, not as the symptom', async () => {
    // healthy, then every request is cut mid-way (the socket destroyed, as when the process exits under it)
    let cut = false;
    const dying = createServer((req, res) => (cut ? req.socket.destroy() : res.end()));
    await new Promise<void>((done) => dying.listen(0, '127.0.0.1', done));
    const dyingPort = (dying.address() as { port: number }).port;
    setTimeout(() => (cut = true), 300);
    let checks = 0;
    let cutSeen = 0;
    // PM2's list shows the crash only from the second look after the probe failed
    const fatal = async () => {
      checks++;
      if (!cut) return undefined;
      cutSeen++;
      return cutSeen >= 2 ? 'instance 7 crashed and was restarted' : undefined;
    };
    try {
      const problem = await staysHealthy({ port: dyingPort, health: '/health' }, { durationMs: 10_000, fatal });
      expect(problem).toBe('instance 7 crashed and was restarted');
      expect(checks).toBeGreaterThan(1);
    } finally {
      dying.closeAllConnections();
      await new Promise((done) => dying.close(done));
    }
  });

  it('a probe cut while the process lives on is reported as what the probe saw', async () => {
    let cut = false;
    const flaky = createServer((req, res) => (cut ? req.socket.destroy() : res.end()));
    await new Promise<void>((done) => flaky.listen(0, '127.0.0.1', done));
    const flakyPort = (flaky.address() as { port: number }).port;
    setTimeout(() => (cut = true), 300);
    try {
      const problem = await staysHealthy(
        { port: flakyPort, health: '/health' },
        { durationMs: 10_000, fatal: async () => undefined },
      );
      expect(problem).toBe('GET /health did not answer after it was healthy');
    } finally {
      flaky.closeAllConnections();
      await new Promise((done) => flaky.close(done));
    }
  });
});
