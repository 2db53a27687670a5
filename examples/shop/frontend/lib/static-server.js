import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** A static file server over `root` with a `/health` route; unknown paths fall back to index.html. */
export function createStaticServer({ root, log = () => {} }) {
  const base = resolve(root);
  return createServer(async (req, res) => {
    const started = Date.now();
    res.on('finish', () => log({ method: req.method, url: req.url, status: res.statusCode, ms: Date.now() - started }));
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400);
      return res.end();
    }
    if (path === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      return res.end();
    }
    const file = normalize(join(base, path === '/' ? 'index.html' : path));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403);
      return res.end();
    }
    const target = (await isFile(file)) ? file : join(base, 'index.html');
    if (!(await isFile(target))) {
      res.writeHead(503, { 'content-type': 'text/plain' });
      return res.end('not built: run `npm run build` first\n');
    }
    res.writeHead(200, { 'content-type': TYPES[extname(target)] ?? 'application/octet-stream' });
    if (req.method === 'HEAD') return res.end();
    createReadStream(target).pipe(res);
  });
}

async function isFile(file) {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
