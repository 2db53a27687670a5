import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opsctl } from '../helpers/cli.js';

// `-p/--package` takes one name per flag (README, "Commands"): it cannot swallow the positional argument after it.

const PG = {
  name: 'pg',
  'dist-tags': { latest: '8.11.0' },
  versions: { '8.0.0': { name: 'pg', version: '8.0.0' }, '8.11.0': { name: 'pg', version: '8.11.0' } },
};

let app: string;
let registry: Server;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'opsctl-e2e-package-'));
  // both packages declare pg, so which one `update` picked shows in its plan
  for (const name of ['backend', 'frontend', 'worker']) {
    mkdirSync(join(app, name));
    const manifest = { name, version: '1.0.0', private: true, dependencies: { pg: '^8.0.0' } };
    writeFileSync(join(app, name, 'package.json'), JSON.stringify(manifest));
    const lock = { name, lockfileVersion: 3, requires: true, packages: { '': manifest } };
    writeFileSync(join(app, name, 'package-lock.json'), JSON.stringify(lock));
  }
  registry = createServer((req, res) => {
    if (req.url === '/pg') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(PG));
    else res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
  }).listen(0, '127.0.0.1');
  await once(registry, 'listening');
  const { port } = registry.address() as { port: number };
  // whatever npm configuration or proxy the caller has, this run asks the stand-in only
  env = Object.fromEntries(
    Object.keys(process.env)
      .filter((k) => /^npm_config_/i.test(k) || /^https?_proxy$/i.test(k))
      .map((k) => [k, undefined]),
  );
  Object.assign(env, {
    npm_config_registry: `http://127.0.0.1:${port}/`,
    npm_config_userconfig: join(app, 'no-user-npmrc'),
    npm_config_globalconfig: join(app, 'no-global-npmrc'),
  });
});

afterAll(async () => {
  registry.closeAllConnections();
  registry.close();
  await once(registry, 'close');
  rmSync(app, { recursive: true, force: true });
});

const packagesOf = (stdout: string) =>
  (JSON.parse(stdout) as { packages: Array<{ name: string }> }).packages.map((p) => p.name);

describe('-p/--package', () => {
  it('`update -p backend pg` updates pg in backend only (the name after -p is not a dependency)', async () => {
    const res = await opsctl(['update', '-p', 'backend', 'pg', '--dry-run', '--json', '-C', app], { env });
    expect(res.stderr).toBe('');
    expect(res.exitCode).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ command: 'update', ok: true, dryRun: true });
    expect(doc.changes).toEqual([{ package: 'backend', name: 'pg', from: null, to: '8.11.0' }]);
  });

  it('`outdated -p backend` lists backend only', async () => {
    const res = await opsctl(['outdated', '-p', 'backend', '--json', '-C', app], { env });
    expect(res.exitCode).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.dependencies.map((d: { package: string; name: string }) => `${d.package} ${d.name}`)).toEqual([
      'backend pg',
    ]);
  });

  it('`deploy -p backend --dry-run` plans backend only', async () => {
    const res = await opsctl(['deploy', '-p', 'backend', '--dry-run', '--json', '-C', app], { env });
    expect(res.exitCode).toBe(0);
    expect(packagesOf(res.stdout)).toEqual(['backend']);
  });

  it.each([
    [['-p', 'backend', '-p', 'worker']],
    [['-p', 'backend,worker']],
    [['--package', 'backend', '--package=worker']],
    [['--package=backend,worker']],
  ])('%j selects both packages', async (flags) => {
    const res = await opsctl(['config', 'show', ...flags, '--json', '-C', app]);
    expect(res.exitCode).toBe(0);
    expect(packagesOf(res.stdout)).toEqual(['backend', 'worker']);
  });

  it('takes one name per flag before the command too', async () => {
    const res = await opsctl(['-p', 'worker', 'config', 'show', '--json', '-C', app]);
    expect(res.exitCode).toBe(0);
    expect(packagesOf(res.stdout)).toEqual(['worker']);
  });

  it('an unknown name is still a usage error (exit 2) naming it', async () => {
    const res = await opsctl(['config', 'show', '-p', 'backend,nope', '-C', app]);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('✖ Unknown package: nope.');
  });

  it.each([[['-p', '']], [['-p', ',']], [['--package=']]])(
    '%j (an unset shell variable in a runbook) is a usage error, never "all packages"',
    async (flags) => {
      const res = await opsctl(['config', 'show', ...flags, '--json', '-C', app]);
      expect(res.exitCode).toBe(2);
      const doc = JSON.parse(res.stdout);
      expect(doc).toMatchObject({ ok: false, exitCode: 2, error: { code: 'USAGE' } });
      expect(doc.error.message).toContain('package name');
    },
  );

  it('a package named as an argument but left out by -p is named as such, not as unknown', async () => {
    const res = await opsctl(['outdated', '-p', 'worker', 'backend', '-C', app], { env });
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('backend');
    expect(res.stderr).not.toContain('Unknown package: backend');
    expect(res.stderr).not.toContain('Known packages: worker.');
  });
});
