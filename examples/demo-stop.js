#!/usr/bin/env node
// `npm run demo:stop`: stops what `npm run demo` started for examples/shop: the app's processes, the PM2 daemon
// opsctl runs them under (.opsctl/pm2), and the embedded PostgreSQL.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const app = join(repo, 'examples', 'shop');
const pm2Home = process.env.PM2_HOME || join(app, '.opsctl', 'pm2');

function run(args, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: repo, stdio: 'inherit', env });
    child.on('error', (err) => {
      console.error(`✖ cannot run ${args[0]}: ${err.message}`);
      resolve(127);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
  });
}

const opsctl = (args) => run(['bin/opsctl.js', '-C', join('examples', 'shop'), ...args]);

let exitCode = await opsctl(['stop']);
if (existsSync(join(pm2Home, 'pm2.pid'))) {
  const pm2 = join(dirname(createRequire(import.meta.url).resolve('pm2/package.json')), 'bin', 'pm2');
  exitCode ||= await run([pm2, 'kill'], { ...process.env, PM2_HOME: pm2Home });
}
exitCode ||= await opsctl(['db', 'stop']);
process.exitCode = exitCode;
