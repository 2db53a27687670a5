import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import semver from 'semver';

const FIXTURES = join(import.meta.dirname, '../fixtures');
/** Real request bodies → real answers of the registry's bulk advisory endpoint (see the .src.txt beside it). */
const RECORDED = JSON.parse(readFileSync(join(FIXTURES, 'audit/bulk-advisories-recorded.json'), 'utf8')) as Record<
  string,
  Record<string, Array<{ vulnerable_versions: string }>>
>;

/** Every recorded advisory by package name (one copy each). */
const ADVISORIES = new Map<string, Array<{ id: number; vulnerable_versions: string }>>();
for (const answer of Object.values(RECORDED)) {
  for (const [name, list] of Object.entries(answer)) {
    const known = ADVISORIES.get(name) ?? [];
    for (const a of list as Array<{ id: number; vulnerable_versions: string }>) {
      if (!known.some((k) => k.id === a.id)) known.push(a);
    }
    ADVISORIES.set(name, known);
  }
}

export interface AuditHit {
  method: string;
  path: string;
  auth?: string;
  contentEncoding?: string;
  body?: Record<string, string[]>;
}

/**
 * The registry's audit endpoint on 127.0.0.1: `POST /-/npm/v1/security/advisories/bulk` (npm sends the body
 * gzipped) answered with the recorded answer for that exact body, else with the recorded advisories whose
 * vulnerable range holds a requested version (what the registry does); `GET /<name>` serves the recorded
 * packuments of test/fixtures/deps/registry. `handler` replaces it all to misbehave.
 */
export async function advisoryServer(handler?: (req: IncomingMessage, res: ServerResponse) => void) {
  const hits: AuditHit[] = [];
  const sockets = new Set<Socket>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const hit: AuditHit = {
      method: req.method ?? '',
      path: req.url ?? '',
      auth: req.headers.authorization,
      contentEncoding: req.headers['content-encoding'],
    };
    hits.push(hit);
    if (handler) return handler(req, res);
    if (req.method === 'POST' && req.url === '/-/npm/v1/security/advisories/bulk') {
      const text = (hit.contentEncoding === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      hit.body = JSON.parse(text) as Record<string, string[]>;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer(hit.body)));
      return;
    }
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    try {
      const doc = JSON.parse(readFileSync(join(FIXTURES, 'deps/registry', `${name}.json`), 'utf8'));
      // those documents keep only version numbers; the registry's versions also carry their name, which npm needs
      for (const v of Object.values(doc.versions) as Array<{ name?: string }>) v.name ??= doc.name;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
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
    port,
    hits,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

function answer(body: Record<string, string[]>) {
  const exact = Object.entries(RECORDED).find(([key]) => sameBody(JSON.parse(key), body));
  if (exact) return exact[1];
  const out: Record<string, unknown[]> = {};
  for (const [name, versions] of Object.entries(body)) {
    const hits = (ADVISORIES.get(name) ?? []).filter((a) =>
      versions.some((v) => semver.satisfies(v, a.vulnerable_versions)),
    );
    if (hits.length) out[name] = hits;
  }
  return out;
}

function sameBody(a: Record<string, string[]>, b: Record<string, string[]>): boolean {
  const norm = (x: Record<string, string[]>) =>
    JSON.stringify(
      Object.entries(x)
        .map(([k, v]) => [k, [...v].sort()])
        .sort(([p], [q]) => String(p).localeCompare(String(q))),
    );
  return norm(a) === norm(b);
}
