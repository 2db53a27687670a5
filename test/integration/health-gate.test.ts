import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitHealthy } from '../../src/app/health.js';

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.statusCode = req.url === '/health' ? 200 : 503;
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
