// Builds dist/ from src/: copies the files and injects API_URL and a build id.
// OUT_DIR (default dist) lets tests build elsewhere.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src');
const outDir = resolve(root, process.env.OUT_DIR || 'dist');
const apiUrl = (process.env.API_URL || 'http://localhost:4000').replace(/\/+$/, '');
const buildId = process.env.BUILD_ID || randomUUID().slice(0, 8);

if (!/^https?:\/\/[^\s'"`<>]+$/.test(apiUrl)) {
  console.error(`build: API_URL must be an http(s) URL, got ${JSON.stringify(apiUrl)}`);
  process.exit(1);
}

await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
const files = await readdir(srcDir);
for (const file of files) {
  const text = await readFile(join(srcDir, file), 'utf8');
  await writeFile(join(outDir, file), text.replaceAll('%API_URL%', apiUrl).replaceAll('%BUILD_ID%', buildId));
}
console.log(`build: ${files.length} files → ${outDir} (API_URL=${apiUrl}, build ${buildId})`);
