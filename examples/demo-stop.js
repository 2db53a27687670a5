#!/usr/bin/env node
// Stops the embedded PostgreSQL that `npm run demo` started for examples/shop.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const child = spawn(process.execPath, ['bin/opsctl.js', '-C', join('examples', 'shop'), 'db', 'stop'], {
  cwd: repo,
  stdio: 'inherit',
});
child.on('error', (err) => {
  console.error(`✖ cannot run opsctl: ${err.message}`);
  process.exitCode = 127;
});
child.on('close', (code, signal) => {
  process.exitCode = code ?? (signal === 'SIGINT' ? 130 : 1);
});
