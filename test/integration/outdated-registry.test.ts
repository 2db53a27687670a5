import { once } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byRisk } from '../../src/deps/bump.js';
import { parseNpmOutdated } from '../../src/deps/npm-outdated.js';
import { copyFixtureApp, npm } from '../fixtures/deps/install-app.js';
import { hasStackTrace, opsctl } from '../helpers/cli.js';

const REGISTRY = join(import.meta.dirname, '../fixtures/deps/registry');
const TOKEN = 'stand-in-token-5f2c9a';

/** A local registry stand-in on 127.0.0.1: serves the recorded documents, or misbehaves on demand. */
async function standIn(handler?: (req: IncomingMessage, res: ServerResponse) => void) {
  const hits: Array<{ path: string; auth?: string }> = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    hits.push({ path: req.url ?? '', auth: req.headers.authorization });
    if (handler) return handler(req, res);
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    try {
      const body = readFileSync(join(REGISTRY, `${name}.json`));
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    hits,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

let root: string;
const servers: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  root = await copyFixtureApp({ install: false }); // nothing installed: every prod dependency is "missing"
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(root, { recursive: true, force: true });
});

describe('opsctl outdated and the registry configuration', () => {
  it('uses npm_config_registry and the project .npmrc token, asks once per dependency, equals npm', async () => {
    const registry = await standIn();
    servers.push(registry);
    const env = { npm_config_registry: registry.url };
    const first = await opsctl(['outdated', '--json', '-C', root], { env });
    expect(first.exitCode).toBe(0);
    // one fetch per distinct dependency for all four packages (dev dependencies that are not installed need none)
    expect(registry.hits.map((h) => h.path).sort()).toEqual([
      '/escape-html',
      '/is-number',
      '/left-pad',
      '/ms',
      '/semver',
    ]);

    registry.hits.length = 0;
    writeFileSync(join(root, 'backend/.npmrc'), `//127.0.0.1:${new URL(registry.url).port}/:_authToken=${TOKEN}\n`);
    const res = await opsctl(['outdated', '--json', '-C', root], { env });
    expect(res.exitCode).toBe(0);
    const backendHits = registry.hits.filter((h) => h.auth === `Bearer ${TOKEN}`);
    expect(backendHits.map((h) => h.path).sort()).toEqual(['/is-number', '/left-pad', '/ms', '/semver']);
    // the other three packages share one configuration: each of their documents once more, without the token
    const others = registry.hits.filter((h) => h.auth === undefined).map((h) => h.path);
    expect(others.sort()).toEqual(['/escape-html', '/is-number', '/ms', '/semver']);

    const expected = (
      await Promise.all(
        ['backend', 'frontend', 'shared', 'worker'].map(async (p) => {
          const out = await npm(join(root, p), ['outdated', '--json'], env).catch((e: { stdout: string }) => e);
          const dev = new Set(
            Object.keys(JSON.parse(readFileSync(join(root, p, 'package.json'), 'utf8')).devDependencies),
          );
          return parseNpmOutdated(out.stdout, p, dev);
        }),
      )
    )
      .flat()
      .sort(byRisk);
    expect(JSON.parse(res.stdout).dependencies).toEqual(expected);
    expect(res.stdout + res.stderr).not.toContain(TOKEN);
    rmSync(join(root, 'backend/.npmrc'));
  });

  it('a registry that refuses the token is exit 4, and the token is never printed', async () => {
    const registry = await standIn((_req, res) => res.writeHead(401).end(`bad token ${TOKEN}`));
    servers.push(registry);
    const npmrc = join(root, 'shared/.npmrc');
    writeFileSync(npmrc, `registry=${registry.url}\n//127.0.0.1:${new URL(registry.url).port}/:_authToken=${TOKEN}\n`);
    const res = await opsctl(['outdated', '-p', 'shared', '-C', root, '--debug']);
    rmSync(npmrc);
    expect(registry.hits[0]?.auth).toBe(`Bearer ${TOKEN}`); // the project .npmrc registry and token were used
    expect(res.exitCode).toBe(4);
    expect(res.stderr).toMatch(
      /✖ The npm registry http:\/\/127\.0\.0\.1:\d+\/ refused us \(401\) when asked for (ms|is-number)\./,
    );
    expect(res.stderr).toContain('→ Log in with `npm login');
    expect(res.stdout + res.stderr).not.toContain(TOKEN);
  });

  it('an unreachable registry is exit 4 at once, with a hint', async () => {
    const registry = await standIn();
    await registry.close(); // the port is now closed
    const started = Date.now();
    const res = await opsctl(['outdated', '--json', '-C', root], { env: { npm_config_registry: registry.url } });
    expect(res.exitCode).toBe(4);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res.stderr).toMatch(/✖ The npm registry http:\/\/127\.0\.0\.1:\d+\/ could not be reached \(ECONNREFUSED\)/);
    expect(JSON.parse(res.stdout)).toMatchObject({
      command: 'outdated',
      ok: false,
      exitCode: 4,
      error: { code: 'REGISTRY_UNREACHABLE' },
    });
    expect(hasStackTrace(res.stderr)).toBe(false);
  });

  it('a registry that hangs is exit 4 after --timeout, not after npm’s five minutes', async () => {
    const registry = await standIn(() => {}); // accepts, never answers
    servers.push(registry);
    const started = Date.now();
    const res = await opsctl(['outdated', '--timeout', '500', '-C', root], {
      env: { npm_config_registry: registry.url },
    });
    const elapsed = Date.now() - started;
    expect(res.exitCode).toBe(4);
    expect(res.stderr).toMatch(/did not answer within 500 ms when asked for /);
    expect(elapsed).toBeLessThan(5_000);
    expect(res.stdout).toBe('');
  });
});
