import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pm2Bin } from '../../src/pm2/cli.js';
import { BIN } from '../helpers/cli.js';
import { assertNoSecrets, createShopApp, type DeployJson, health, type ShopApp, steps } from '../helpers/deploy-app.js';

/**
 * A release proves itself beside the live one before it replaces anything (README, "Deploy"): a client polling the
 * backend every 50 ms sees no failed request through a failed deploy and through a good one; a crash at import, a
 * crash seconds after listening and a broken smoke path fail the deploy with the old release serving and `current`
 * unchanged; SIGINT during the candidate's gate leaves no candidate behind.
 */

let shop: ShopApp;
const server = () => join(shop.dir, 'backend', 'server.js');
const appJs = () => join(shop.dir, 'backend', 'src', 'app.js');
const current = () => basename(readlinkSync(join(shop.dir, '.opsctl', 'releases', 'backend', 'current')));
const pm2Names = () =>
  (
    JSON.parse(
      execFileSync(process.execPath, [pm2Bin(), 'jlist'], {
        env: { ...process.env, PM2_HOME: join(shop.dir, '.opsctl', 'pm2') },
        encoding: 'utf8',
      }),
    ) as Array<{ name: string; pm2_env: { status: string } }>
  )
    .map((p) => `${p.name}:${p.pm2_env.status}`)
    .sort();

/** GET /health every 50 ms until stopped: how many requests were made, and each failure (status or error, and when). */
function poll(port: number) {
  let stopped = false;
  const counts = { total: 0, failed: 0, failures: [] as string[], retried: { count: 0 } };
  const started = Date.now();
  const done = (async () => {
    while (!stopped) {
      counts.total++;
      const failure = await failureOf(port, counts.retried);
      if (failure) {
        counts.failed++;
        counts.failures.push(`${Date.now() - started} ms: ${failure}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      return counts;
    },
  };
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });

/**
 * One GET /health on a kept-alive connection, as a browser or a proxy makes them: undefined when it answered 200,
 * else the status or the error (its code, and whether the connection was a reused one). A request reset on a
 * reused connection (the server closed it as the request went out) is sent once more on a new one, as HTTP clients
 * do for a GET (RFC 9112, 9.3.1; Node's `request.reusedSocket`); a reset on a new connection is a failure.
 */
async function failureOf(port: number, retries = { count: 0 }): Promise<string | undefined> {
  const first = await getHealth(port);
  if (first?.reset) {
    retries.count++;
    return (await getHealth(port))?.failure;
  }
  return first?.failure;
}

function getHealth(port: number): Promise<{ failure: string; reset?: boolean } | undefined> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/health', agent: keepAlive, timeout: 2_000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () =>
        resolve(res.statusCode === 200 ? undefined : { failure: `answered ${res.statusCode} ${body.slice(0, 200)}` }),
      );
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
    req.on('error', (error: NodeJS.ErrnoException) => {
      const where = req.reusedSocket ? 'on a reused connection' : 'on a new connection';
      resolve({
        failure: `${error.code ?? error.message} ${where}`,
        reset: req.reusedSocket && error.code === 'ECONNRESET',
      });
    });
  });
}

/** `opsctl deploy backend --json` as a child, to be signalled: its exit code and stdout once it has exited. */
function startDeploy() {
  const child = spawn(process.execPath, [BIN, '-C', shop.dir, 'deploy', 'backend', '--json'], {
    env: { ...process.env, ...shop.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (c) => (stdout += c));
  return {
    signal: (signal: NodeJS.Signals) =>
      new Promise<{ code: number | null; stdout: string }>((resolve) => {
        child.once('exit', (code) => resolve({ code, stdout }));
        child.kill(signal);
      }),
  };
}

/** Run with `server.js` (or app.js) changed, then restore it. */
async function withChanged<T>(file: string, change: (source: string) => string, fn: () => Promise<T>): Promise<T> {
  const original = readFileSync(file, 'utf8');
  writeFileSync(file, change(original));
  try {
    return await fn();
  } finally {
    writeFileSync(file, original);
  }
}

const durationOf = (doc: DeployJson, step: string) =>
  doc.packages.find((p) => p.name === 'backend')!.steps.find((s) => s.step === step)?.durationMs ?? 0;

beforeAll(async () => {
  shop = await createShopApp('deploy-candidate');
  const config = join(shop.dir, 'opsctl.config.yaml');
  writeFileSync(
    config,
    readFileSync(config, 'utf8').replace(
      '    instances: 1\n',
      '    instances: 1\n    smoke: [/api/products, { path: /api/nothing-here, status: 404 }]\n',
    ),
  );
  const res = await shop.run(['deploy', '--json']);
  expect(res.exitCode, res.stderr).toBe(0);
  expect(await health(shop.ports.backend)).toBe(200);
});

afterAll(async () => {
  await shop?.cleanup();
});

describe('a release proves itself beside the live one', () => {
  it('a release that throws at import fails within 2 s of its start step, and no request fails', async () => {
    const before = current();
    const poller = poll(shop.ports.backend);
    const res = await withChanged(
      server(),
      (s) => `throw new Error('release-2 failed to load: ' + process.env.API_TOKEN);\n${s}`,
      () => shop.run(['deploy', 'backend', '--json']),
    );
    const counts = await poller.stop();
    assertNoSecrets(res.stdout, res.stderr);
    expect(res.exitCode, res.stderr).toBe(3);
    const doc = JSON.parse(res.stdout) as DeployJson;
    expect(steps(doc, 'backend')).toMatchObject({ start: 'done', health: 'failed' });
    const gate = doc.packages[0]!.steps.find((s) => s.step === 'health')!;
    expect(gate.reason).toContain('release-2 failed to load: ****');
    expect(gate.reason).toContain('the live release was not touched');
    // the candidate's gate fails within 2 s of the release being started; the start step before it copies the
    // release and runs one `pm2 start` (each pm2 call ~0.8 s on a loaded 2-core machine)
    expect(durationOf(doc, 'health')).toBeLessThan(2_000);
    expect(durationOf(doc, 'start') + durationOf(doc, 'health')).toBeLessThan(3_000);
    expect(doc.packages[0]!.rolledBackTo).toBeUndefined(); // nothing was replaced, so nothing was put back
    expect(doc.packages[0]!.logTail?.join('\n')).toContain('release-2 failed to load: ****');
    expect(counts.total).toBeGreaterThan(10);
    expect(counts.failures).toEqual([]);
    expect(current()).toBe(before);
    expect(pm2Names()).toEqual(['backend:online', 'frontend:online']);
  });

  it('a good release goes live with no failed request', async () => {
    const before = current();
    const poller = poll(shop.ports.backend);
    const res = await withChanged(
      server(),
      (s) => `${s}\n// release 3\n`,
      () => shop.run(['deploy', 'backend', '--json']),
    );
    const counts = await poller.stop();
    expect(res.exitCode, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout) as DeployJson & { packages: Array<{ release?: string }> };
    expect(steps(doc, 'backend')).toMatchObject({ start: 'done', health: 'done' });
    expect(counts.total).toBeGreaterThan(10);
    expect(counts.failures).toEqual([]);
    expect(current()).not.toBe(before);
    expect(current()).toBe(doc.packages[0]!.release);
    expect(pm2Names()).toEqual(['backend:online', 'frontend:online']);
  });

  it('a release that crashes 3 s after listening fails the deploy; the old release keeps serving', async () => {
    const before = current();
    const res = await withChanged(
      server(),
      (s) => `${s}\nsetTimeout(() => { console.error('late crash'); process.exit(1); }, 3000);\n`,
      () => shop.run(['deploy', 'backend', '--json']),
    );
    expect(res.exitCode, res.stderr).toBe(3);
    const doc = JSON.parse(res.stdout) as DeployJson;
    expect(steps(doc, 'backend').health).toBe('failed');
    expect(doc.packages[0]!.logTail?.join('\n')).toContain('late crash');
    expect(current()).toBe(before);
    expect(await health(shop.ports.backend)).toBe(200);
    expect(pm2Names()).toEqual(['backend:online', 'frontend:online']);
  });

  it('a candidate that dies of an uncaught error is named in plain words, with its error and its own log file', async () => {
    const res = await withChanged(
      server(),
      (s) => `${s}\nsetTimeout(() => { throw new TypeError('late crash after listen'); }, 1000);\n`,
      () => shop.run(['deploy', 'backend', '--json']),
    );
    expect(res.exitCode, res.stderr).toBe(3);
    const doc = JSON.parse(res.stdout) as DeployJson & { error: { message: string; hint: string } };
    const gate = doc.packages[0]!.steps.find((s) => s.step === 'health')!;
    expect(gate.reason).toMatch(
      /the candidate (exited|crashed|stopped listening after it was healthy) \(TypeError: late crash after listen\)/,
    );
    expect(gate.reason).not.toMatch(/instance \d+|port \d{5}/); // PM2's id and the scratch port mean nothing here
    expect(doc.error.hint).toContain(join('.opsctl', 'pm2', 'logs', 'backend~candidate-error.log'));
    expect(await health(shop.ports.backend)).toBe(200);
  });

  it('a smoke path answering 500 fails the deploy; the old release keeps serving', async () => {
    const before = current();
    const res = await withChanged(
      appJs(),
      (s) => s.replace("'GET /api/products': listProducts", "'GET /api/products': () => { throw new Error('boom'); }"),
      () => shop.run(['deploy', 'backend', '--json']),
    );
    expect(res.exitCode, res.stderr).toBe(3);
    const doc = JSON.parse(res.stdout) as DeployJson;
    const gate = doc.packages[0]!.steps.find((s) => s.step === 'health')!;
    expect(gate.status).toBe('failed');
    expect(gate.reason).toContain('smoke GET /api/products answered 500 (expected 2xx)');
    expect(current()).toBe(before);
    expect(await health(shop.ports.backend)).toBe(200);
  });

  it('a release that fails only once live (its candidate passed) is rolled back: the previous release is put back', async () => {
    const before = current();
    const res = await withChanged(
      server(),
      (s) =>
        `if (process.env.PORT === '${shop.ports.backend}') { console.error('live-only crash'); process.exit(1); }\n${s}`,
      () => shop.run(['deploy', 'backend', '--json']),
    );
    expect(res.exitCode, res.stderr).toBe(3);
    const doc = JSON.parse(res.stdout) as DeployJson;
    expect(steps(doc, 'backend').health).toBe('failed');
    expect(doc.packages[0]!.rolledBackTo).toBe(before);
    expect(doc.packages[0]!.logTail?.join('\n')).toContain('live-only crash');
    expect(current()).toBe(before);
    expect(await health(shop.ports.backend)).toBe(200);
    expect(pm2Names()).toEqual(['backend:online', 'frontend:online']);
  });

  it('two failed deploys in a row never stop the app', async () => {
    const before = current();
    for (let i = 0; i < 2; i++) {
      const res = await withChanged(
        server(),
        (s) => `process.exit(${i + 1});\n${s}`,
        () => shop.run(['deploy', 'backend', '--json']),
      );
      expect(res.exitCode, res.stderr).toBe(3);
      expect(current()).toBe(before);
      expect(await health(shop.ports.backend)).toBe(200);
    }
    expect(pm2Names()).toEqual(['backend:online', 'frontend:online']);
  });

  it('SIGINT during the live reload: exit 130 with the previous release put back and serving', async () => {
    const before = current();
    await withChanged(
      server(),
      // the candidate passes at once; the live instance takes 4 s to listen, so the signal lands in its reload
      (s) => `if (process.env.PORT === '${shop.ports.backend}') await new Promise((r) => setTimeout(r, 4000));\n${s}`,
      async () => {
        const deploy = startDeploy();
        const deadline = Date.now() + 60_000;
        while (current() === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(current()).not.toBe(before); // `current` moved: the live reload has begun
        const { code, stdout } = await deploy.signal('SIGINT');
        expect(code).toBe(130);
        const doc = JSON.parse(stdout) as DeployJson & { error: { code: string } };
        expect(doc.error.code).toBe('INTERRUPTED');
        expect(doc.packages[0]!.rolledBackTo).toBe(before);
      },
    );
    expect(current()).toBe(before);
    expect(await health(shop.ports.backend)).toBe(200);
    expect(pm2Names()).toEqual(['backend:online', 'frontend:online']);
  });

  it.each([
    ['SIGINT', 130, 'INTERRUPTED'],
    ['SIGTERM', 143, 'TERMINATED'],
  ] as const)(
    '%s during the candidate gate: exit %i, no candidate left, old release serving, current unchanged',
    async (signal, exitCode, errorCode) => {
      const before = current();
      await withChanged(
        server(),
        // never listens: the candidate's gate waits until the signal
        (s) => `await new Promise((r) => setTimeout(r, 60_000));\n${s}`,
        async () => {
          const deploy = startDeploy();
          const deadline = Date.now() + 60_000;
          while (!pm2Names().includes('backend~candidate:online') && Date.now() < deadline)
            await new Promise((r) => setTimeout(r, 200));
          const started = Date.now();
          const { code, stdout } = await deploy.signal(signal);
          expect(code).toBe(exitCode);
          expect(Date.now() - started).toBeLessThan(5_000);
          const doc = JSON.parse(stdout) as DeployJson & { error: { code: string } };
          expect(doc.error.code).toBe(errorCode);
          expect(steps(doc, 'backend').health).toBe('failed');
        },
      );
      expect(current()).toBe(before);
      expect(await health(shop.ports.backend)).toBe(200);
      expect(pm2Names()).toEqual(['backend:online', 'frontend:online']);
    },
  );
});
