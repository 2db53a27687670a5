// The node process of npm-batch.ts: `node npm-batch-child.cjs <mark> <npm-cli.js> <bound ms> <at once>`, the jobs
// ([{dir, args}]) as JSON on stdin; one `<mark>{i, stdout, stderr, timedOut}` line per job done (none for a job
// it cannot run as npm would: the caller then runs npm for it). Each job takes the
// steps of npm's own CLI (npm's lib/cli/entry.js: `new Npm()`, `load()`, `exec()`; fs gracefulified once, as there)
// with its folder as working folder, `npm <args>` as argv and npm's output streams as buffers. Up to <at once> jobs
// run at once, so their registry requests overlap; what npm keeps process-wide is kept per job:
// - npm's output, logs and timings are events on `process` (proc-log) that every loaded Npm listens to: the
//   listeners a job's Npm adds hear only the events its own command emits (AsyncLocalStorage);
// - npm's config reads the environment, argv and working folder when it is made, and its loading exports
//   npm_config_* into that environment: each job's Npm is made with its own copy of the environment as it came in,
//   its argv and folder, and the config loads one job at a time (npm's commands read the loaded config).
// A job past its bound is reported as timed out; its pending request can no longer reach any output. Plain
// CommonJS, as npm is.
const { AsyncLocalStorage } = require('node:async_hooks');
const { dirname, join } = require('node:path');
const { Writable } = require('node:stream');
const { createRequire } = require('node:module');
const { stripVTControlCharacters } = require('node:util');

const [, , MARK, cli, bound, atOnce] = process.argv;
const send = (msg) => process.stdout.write(`\n${MARK}${JSON.stringify(msg)}\n`);
const root = dirname(dirname(cli));
const npmRequire = createRequire(join(root, 'lib', 'cli', 'entry.js'));

const current = new AsyncLocalStorage();
const ROUTED = ['log', 'output', 'input', 'time'];
const owners = new WeakMap(); // listener → the job whose Npm added it
const emit = process.emit;
process.emit = function routed(event, ...args) {
  if (!ROUTED.includes(event)) return emit.call(this, event, ...args);
  const job = current.getStore();
  for (const listener of process.listeners(event)) {
    const owner = owners.get(listener);
    if (owner === undefined || owner === job) listener.apply(this, args);
  }
  return true;
};

function buffer() {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.text += chunk;
      done();
    },
  });
  stream.text = '';
  return stream;
}

/** `new Npm()` for job `i`, with its environment, argv and folder, owning the listeners it adds. */
function makeNpm(Npm, i, job, env, streams) {
  const before = new Map(ROUTED.map((e) => [e, new Set(process.listeners(e))]));
  const shared = process.env;
  process.env = { ...env };
  process.argv = [process.execPath, cli, ...job.args];
  process.chdir(job.dir);
  try {
    return new Npm(streams);
  } finally {
    process.env = shared;
    for (const e of ROUTED) for (const l of process.listeners(e)) if (!before.get(e).has(l)) owners.set(l, i);
  }
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const jobs = JSON.parse(input);
  const engines = require(join(root, 'package.json')).engines?.node;
  // npm refuses this node (its own message comes from running it as a process of its own)
  if (engines && !npmRequire('semver/functions/satisfies')(process.version, engines)) return;
  npmRequire('graceful-fs').gracefulify(require('node:fs'));
  const Npm = npmRequire('../npm.js');
  const env = { ...process.env };
  let loading = Promise.resolve(); // one config load at a time: it reads the working folder
  let unsupported;

  const one = (i) =>
    current.run(i, async () => {
      const job = jobs[i];
      const stdout = buffer();
      const stderr = buffer();
      let npm;
      const run = async () => {
        let loaded;
        const turn = loading.then(async () => {
          npm = makeNpm(Npm, i, job, env, { stdout, stderr });
          loaded = await npm.load();
        });
        loading = turn.catch(() => {});
        await turn;
        if (typeof loaded?.exec !== 'boolean') throw Object.assign(new Error('unsupported'), { unsupported: true });
        if (loaded.exec) await npm.exec(loaded.command, loaded.args);
      };
      let timer;
      const outcome = await Promise.race([
        run().then(
          () => undefined,
          (error) => error ?? new Error('npm failed'),
        ),
        new Promise((resolve) => {
          timer = setTimeout(resolve, Number(bound), 'timeout');
        }),
      ]);
      clearTimeout(timer);
      try {
        npm?.unload();
      } catch {}
      if (outcome?.unsupported) {
        unsupported = true; // not npm's CLI steps as this file knows them: no result, npm runs per package
        return;
      }
      if (outcome === 'timeout') return send({ i, timedOut: true, stdout: stdout.text, stderr: stderr.text });
      // npm's exit handler prints the error when npm printed none (its log lines, at any level, are not one)
      const printed = /^npm (error|ERR!) /m.test(stripVTControlCharacters(stderr.text));
      const said = outcome && !printed ? `npm error ${outcome.message}\n` : '';
      send({ i, timedOut: false, stdout: stdout.text, stderr: stderr.text + said });
    });

  let next = 0;
  const worker = async () => {
    while (next < jobs.length && !unsupported) await one(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Number(atOnce) || 1) }, worker));
}

// opsctl ended without ending this process (SIGKILL, an OOM killer): it is re-parented; stop rather than run on
// up to every job's bound with nobody to read the results
const parent = process.ppid;
setInterval(() => process.ppid !== parent && process.exit(1), 1_000).unref();

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exit(1);
  },
);
