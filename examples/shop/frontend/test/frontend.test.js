import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createStaticServer } from '../lib/static-server.js';

const run = promisify(execFile);
const buildScript = fileURLToPath(new URL('../scripts/build.js', import.meta.url));

test('build injects API_URL into dist', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'shop-frontend-'));
  t.after(() => rm(out, { recursive: true, force: true }));
  await run(process.execPath, [buildScript], {
    env: { ...process.env, OUT_DIR: out, API_URL: 'https://api.example.com/' },
  });
  const app = await readFile(join(out, 'app.js'), 'utf8');
  assert.match(app, /const API_URL = 'https:\/\/api\.example\.com';/);
  assert.match(await readFile(join(out, 'index.html'), 'utf8'), /<script type="module" src="\.\/app\.js">/);
});

test('build refuses an API_URL that is not a URL', async () => {
  await assert.rejects(
    run(process.execPath, [buildScript], { env: { ...process.env, OUT_DIR: tmpdir(), API_URL: "x'; alert(1)" } }),
  );
});

test('server answers /health, serves files and refuses paths outside its root', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'shop-frontend-'));
  await writeFile(join(root, 'index.html'), '<h1>hi</h1>');
  const server = createStaticServer({ root });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(root, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${server.address().port}`;

  const health = await fetch(`${base}/health`);
  assert.equal(health.status, 200);
  assert.equal((await health.json()).status, 'ok');

  const page = await fetch(`${base}/`);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(await page.text(), '<h1>hi</h1>');

  const outside = await fetch(`${base}/..%2f..%2fetc%2fpasswd`);
  assert.equal(outside.status, 403);
});
