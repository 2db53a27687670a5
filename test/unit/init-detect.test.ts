import { parseSync } from 'oxc-parser';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { opsctlSpecOf, renderCi } from '../../src/init/ci.js';
import { scanSource } from '../../src/init/code-scan.js';
import { renderConfig } from '../../src/init/config-file.js';
import { portFromScripts } from '../../src/init/package-facts.js';

const ports = (code: string, file = 'server.js') => scanSource(parseSync, file, code).ports.map((p) => p.port);

describe('ports in code', () => {
  it.each([
    ['const port = process.env.PORT || 4000;', 4000],
    ['const port = Number(process.env.PORT) ?? 4001;', 4001],
    ["const port = parseInt(process.env['PORT'] || '4002', 10);", 4002],
    ['const { PORT = 4003 } = process.env;', 4003],
    ['app.listen(4004, () => {});', 4004],
    ['const port: number = Number(process.env.PORT) || 4005;', 4005],
  ])('%s', (code, port) => {
    expect(ports(code, 'server.ts')).toEqual([port]);
  });

  it('is not a number in a comment or a string, another variable, or out of range', () => {
    expect(ports('// app.listen(3000)\nconst s = "process.env.PORT || 3000";')).toEqual([]);
    expect(ports('const n = process.env.WORKERS || 4;')).toEqual([]);
    expect(ports('server.listen(port);')).toEqual([]);
    expect(ports('server.listen(70000);')).toEqual([]);
  });

  it('the first in the file comes first', () => {
    expect(ports('const a = process.env.PORT || 4100;\nserver.listen(9000);')).toEqual([4100, 9000]);
  });

  it('a file that does not parse shows nothing', () => {
    expect(ports('const = = 3000 listen(')).toEqual([]);
  });
});

describe('health routes and env names in code', () => {
  it('finds route literals in file order, and the env variables read', () => {
    const facts = scanSource(
      parseSync,
      'app.js',
      "const routes = { 'GET /healthz': h, '/api/users': u };\nif (url === '/ready') x();\nconst u = process.env.DB_URL + process.env['REDIS_URL'];",
    );
    expect(facts.health.map((h) => h.path)).toEqual(['/healthz', '/ready']);
    expect([...facts.envNames].sort()).toEqual(['DB_URL', 'REDIS_URL']);
  });
});

describe('ports in scripts', () => {
  it.each([
    [{ start: 'PORT=3000 node server.js' }, 3000],
    [{ start: 'next start -p 3001' }, 3001],
    [{ start: 'node x.js', dev: 'vite --port 5173' }, 5173],
    [{ start: 'serve dist --port=8080' }, 8080],
  ])('%j', (scripts, port) => {
    expect(portFromScripts(scripts)?.value).toBe(port);
  });

  it('none without one', () => {
    expect(portFromScripts({ start: 'node server.js', build: 'PORT=1 tsc' })).toBeUndefined();
  });
});

describe('rendering', () => {
  it('writes variables as ${VAR}, never values, and only keys the answers have', () => {
    const text = renderConfig({
      packages: [{ name: 'api', path: 'services/api', port: 4000 }],
      tool: 'knex',
      databaseVariable: 'PG_URL',
    });
    expect(parse(text)).toEqual({
      packages: { api: { path: 'services/api', port: 4000 } },
      database: { url: '${PG_URL}', tool: 'knex' },
    });
  });

  it('installs with npm ci where a lockfile is, npm install elsewhere, and deploys with --env production when the config has it', () => {
    const text = renderCi('github', {
      packages: [
        { path: '.', hasLockfile: true },
        { path: 'web', hasLockfile: false },
      ],
      nodeVersion: '22',
      opsctlVersion: '1.2.3',
      migrations: true,
      production: true,
    });
    const doc = parse(text);
    expect(doc.jobs.checks.steps.find((s: { name?: string }) => s.name === 'Install the packages').run).toBe(
      'npm ci\nnpm install --prefix web\n',
    );
    expect(doc.jobs.checks.steps[1].with['node-version']).toBe('22');
    expect(doc.jobs.deploy.steps.at(-1).run).toBe('opsctl deploy --env production');
    // one place says where opsctl comes from; every install step reads it
    expect(doc.env.OPSCTL_PACKAGE).toBe('opsctl@1.2.3');
    expect(doc.jobs.checks.steps.find((s: { name?: string }) => s.name === 'Install opsctl').run).toBe(
      'npm install --global "$OPSCTL_PACKAGE"',
    );
  });

  it("installs opsctl from the app's own dependency on it, when the app has one a CI machine can fetch", () => {
    const app = { packages: [{ path: '.', hasLockfile: true }], nodeVersion: '20', opsctlVersion: '1.2.3' };
    const spec = 'git+https://git.example.com/ops/opsctl.git#4e157c6';
    for (const provider of ['github', 'gitlab'] as const) {
      const doc = parse(renderCi(provider, { ...app, migrations: false, production: false, opsctlPackage: spec }));
      expect(provider === 'github' ? doc.env.OPSCTL_PACKAGE : doc.variables.OPSCTL_PACKAGE).toBe(spec);
    }
    expect(opsctlSpecOf({ devDependencies: { opsctl: spec } })).toBe(spec);
    expect(opsctlSpecOf({ dependencies: { opsctl: '^1.2.0' } })).toBe('opsctl@^1.2.0');
    // a path on this machine means nothing on a CI machine
    expect(opsctlSpecOf({ devDependencies: { opsctl: 'file:../opsctl' } })).toBeUndefined();
    expect(opsctlSpecOf({ devDependencies: { opsctl: 'link:../opsctl' } })).toBeUndefined();
    expect(opsctlSpecOf({ name: 'shop' })).toBeUndefined();
  });
});
