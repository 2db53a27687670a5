#!/usr/bin/env node
// `node examples/demo-keys.js [app]`: the secrets the example app needs, generated once and kept in the app's .env
// (gitignored, mode 0600), which opsctl passes to the processes it starts. A key already there is kept: orders
// encrypted with it must stay readable. Values are never printed.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'dotenv';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const app = process.argv[2] ?? join(repo, 'examples', 'shop');

/** Each secret the app needs and how to make one (backend/.env.example lists them for opsctl doctor). */
const SECRETS = {
  ENCRYPTION_KEY: () => randomBytes(32).toString('hex'), // AES-256-GCM: 32 bytes as 64 hex characters
};

const file = join(app, '.env');
const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
const present = parse(text);
const missing = Object.keys(SECRETS).filter((name) => !present[name]);
const label = relative(process.cwd(), file) || file;
if (!missing.length) {
  console.log(`${Object.keys(SECRETS).join(', ')} already in ${label}`);
} else {
  // a key present but empty is replaced: an empty value counts as unset
  const kept = text
    .split('\n')
    .filter((line) => !missing.some((name) => new RegExp(`^\\s*(export\\s+)?${name}\\s*=`).test(line)))
    .join('\n');
  const added = missing.map((name) => `${name}=${SECRETS[name]()}`).join('\n');
  writeFileSync(file, `${kept.trimEnd() ? `${kept.trimEnd()}\n` : ''}${added}\n`, { mode: 0o600 });
  console.log(`generated ${missing.join(', ')} in ${label}`);
}
chmodSync(file, 0o600); // secrets: readable by the owner only, even when the file was there before
