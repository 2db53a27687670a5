#!/usr/bin/env node
// `npm run demo`: opsctl against the bundled example app (examples/shop) on its embedded defaults.
// The demo is a list of steps; add a step to show a new command. Each step returns an exit code and says
// whether the demo goes on after a failure (`optional`), which codes are failures (`failsFrom`), and which
// codes are outcomes to show with a note rather than failures (`expected`: exit code -> note).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBuilt } from './demo-build.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const app = join(repo, 'examples', 'shop');
const appArg = relative(repo, app);
const PACKAGES = ['backend', 'frontend'];

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code, text) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
const bold = (text) => paint(1, text);
const dim = (text) => paint(2, text);
const red = (text) => paint(31, text);
const yellow = (text) => paint(33, text);

// the demo shows the embedded database; a DATABASE_URL from the shell would take its place
const opsctlEnv = { ...process.env };
const notes = [];
if (opsctlEnv.DATABASE_URL) {
  delete opsctlEnv.DATABASE_URL;
  notes.push('DATABASE_URL is set in your shell; the demo leaves it out so opsctl uses its embedded PostgreSQL.');
}
if (!opsctlEnv.REDIS_URL) {
  opsctlEnv.REDIS_URL = 'redis://127.0.0.1:6379';
  notes.push(
    `REDIS_URL is not set; the demo checks ${opsctlEnv.REDIS_URL} (a red redis row means nothing listens there).`,
  );
}

let interrupted = false;
process.on('SIGINT', () => {
  interrupted = true; // the child gets the same Ctrl-C; the demo stops once it has exited
});

/** Runs a command with inherited output; resolves to its exit code (127 when it could not start). */
function run(command, args, { cwd = repo, env = process.env, shell = false } = {}) {
  const shown = [command === process.execPath ? 'node' : command, ...args].join(' ');
  const where = cwd === repo ? '' : `   (in ${relative(repo, cwd)})`;
  console.log(dim(`$ ${shown}${where}`));
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, shell, stdio: 'inherit' });
    child.on('error', (err) => {
      console.error(red(`✖ cannot run ${command}: ${err.message}`));
      resolve(127);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
  });
}

/** npm through the same npm that runs `npm run demo`, so the demo works when npm is not on PATH. */
function npm(args, cwd) {
  const npmCli = process.env.npm_execpath;
  if (npmCli?.endsWith('.js')) return run(process.execPath, [npmCli, ...args], { cwd });
  // Windows runs npm.cmd only through a shell; the arguments here are fixed strings
  const windows = process.platform === 'win32';
  return run(windows ? 'npm.cmd' : 'npm', args, { cwd, shell: windows });
}

const opsctl = (args) => run(process.execPath, ['bin/opsctl.js', '-C', appArg, ...args], { env: opsctlEnv });

function hasDependencies(dir) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).length > 0;
}

const steps = [
  {
    title: 'Build opsctl',
    skip: () => isBuilt(repo) && 'already built (npm run build to rebuild)',
    run: () => npm(['run', 'build'], repo),
  },
  ...PACKAGES.map((name) => {
    const dir = join(app, name);
    return {
      title: `Install ${name} dependencies`,
      skip: () =>
        (!hasDependencies(dir) && 'no dependencies') ||
        (existsSync(join(dir, 'node_modules', '.package-lock.json')) && 'node_modules present'),
      run: () => npm(['ci', '--no-audit', '--no-fund'], dir),
    };
  }),
  {
    title: 'Start the embedded PostgreSQL',
    optional: true,
    hint: "doctor's postgres check will show the database as unreachable.",
    run: () => opsctl(['db', 'start']),
  },
  {
    title: 'Apply the migrations',
    run: () => opsctl(['migrate']),
  },
  {
    title: "Generate the app's secrets once (ENCRYPTION_KEY in examples/shop/.env, mode 0600)",
    run: () => run(process.execPath, ['examples/demo-keys.js', appArg]),
  },
  {
    title: 'Deploy: install, build, start under PM2, health-gate',
    run: () => opsctl(['deploy']),
  },
  {
    title: 'Process status',
    run: () => opsctl(['status']),
  },
  {
    title: 'Run the on-call checks',
    // exit 1 means "a check failed": that is a result worth showing, not a broken demo
    failsFrom: 2,
    run: () => opsctl(['doctor']),
  },
  {
    title: 'Audit: npm advisories and the code (the shop has one of each on purpose)',
    expected: {
      1: 'findings, as planned: ms@0.7.0 and the SESSION_SECRET fallback are in the shop on purpose (examples/shop/README.md).',
      4:
        "npm's audit endpoint could not be used (opsctl's message above): some registries and networks refuse it " +
        '(registry.npmjs.org answers 405 from some). The code findings are shown anyway; with a registry that offers ' +
        'the endpoint (npm_config_registry), ms@0.7.0 shows up too.',
    },
    run: () => opsctl(['audit', '--no-snyk']),
  },
];

async function main() {
  for (const note of notes) console.log(yellow(`note: ${note}`));
  let exitCode = 0;
  for (const [i, step] of steps.entries()) {
    const header = `[${i + 1}/${steps.length}] ${step.title}`;
    const skipped = step.skip?.();
    if (skipped) {
      console.log(`\n${bold(header)} ${dim(`skipped: ${skipped}`)}`);
      continue;
    }
    console.log(`\n${bold(header)}`);
    const code = await step.run();
    if (interrupted) return 130;
    if (code < (step.failsFrom ?? 1)) continue;
    if (step.expected?.[code]) {
      console.log(yellow(`note: exit ${code}: ${step.expected[code]}`));
      continue;
    }
    if (step.optional) {
      console.log(yellow(`⚠ ${step.title} failed (exit ${code}); going on: ${step.hint ?? ''}`));
      continue;
    }
    console.error(red(`✖ ${step.title} failed (exit ${code}); the demo stops here.`));
    exitCode = code;
    break;
  }
  if (exitCode === 0) {
    console.log(`\n${bold('The shop is running')}:`);
    console.log(`  storefront  http://localhost:3000`);
    console.log(`  API         http://localhost:4000/health   http://localhost:4000/api/products`);
    console.log(`\n${bold('Next')}, from ${repo}:`);
    if (!process.env.REDIS_URL) {
      // the demo set it for opsctl; without it, doctor warns (${REDIS_URL} not set), start/restart refuse to drop it
      // without --yes, and a deploy reloads without it (env REDIS_URL removed)
      console.log(`  export REDIS_URL=${opsctlEnv.REDIS_URL}        # as the demo did, so opsctl sees the same app`);
    }
    console.log(
      `  node bin/opsctl.js -C ${appArg} logs backend   # the API's recent log lines (PM2's files in .opsctl/pm2/logs)`,
    );
    console.log(`  node bin/opsctl.js -C ${appArg} scale backend 2`);
    console.log(`  node bin/opsctl.js -C ${appArg} config show    # the resolved config`);
    console.log(`  node bin/opsctl.js -C ${appArg} db url         # the embedded database's URL`);
    console.log(`  npm run demo:stop                               # stops the app, PM2 and the database`);
    console.log(dim('  (with opsctl installed or linked, `opsctl -C examples/shop …` does the same)'));
  }
  return exitCode;
}

process.exitCode = await main();
