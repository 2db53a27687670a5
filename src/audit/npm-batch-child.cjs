// The node process of npm-batch.ts: `node npm-batch-child.cjs <mark> <npm-cli.js> <bound ms>`, the jobs
// ([{dir, args}]) as JSON on stdin. It runs npm's own CLI steps (npm's lib/cli/entry.js: gracefulify fs, `new Npm()`,
// `load()`, `exec()`) for each job in turn, with the job's folder as working folder, `npm <args>` as argv, the
// environment as it came in (npm's config loading exports npm_config_* into it) and npm's output streams as
// buffers; then prints one `<mark>{i, exitCode, stdout, stderr, timedOut}` line per job. A job that outlasts the
// bound is reported as timed out and the process ends there: npm's request may still be pending and must not write
// into the next job's output. Plain CommonJS, as npm is.
const { dirname, join } = require('node:path');
const { Writable } = require('node:stream');
const { createRequire } = require('node:module');

const [, , MARK, cli, bound] = process.argv;
const send = (msg) => process.stdout.write(`\n${MARK}${JSON.stringify(msg)}\n`);
const root = dirname(dirname(cli));
const npmRequire = createRequire(join(root, 'lib', 'cli', 'entry.js'));

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

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const jobs = JSON.parse(input);
  const engines = require(join(root, 'package.json')).engines?.node;
  if (engines && !npmRequire('semver/functions/satisfies')(process.version, engines)) {
    return send({ unsupported: `npm does not support node ${process.version}` });
  }
  npmRequire('graceful-fs').gracefulify(require('node:fs'));
  const Npm = npmRequire('../npm.js');
  const env = { ...process.env };
  for (const [i, job] of jobs.entries()) {
    for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
    Object.assign(process.env, env);
    process.chdir(job.dir);
    process.argv = [process.execPath, cli, ...job.args];
    process.exitCode = undefined;
    const stdout = buffer();
    const stderr = buffer();
    const npm = new Npm({ stdout, stderr });
    const run = async () => {
      const loaded = await npm.load();
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
    if (outcome === 'timeout') {
      send({ i, timedOut: true, exitCode: 124, stdout: stdout.text, stderr: stderr.text });
      process.exit(0);
    }
    if (outcome?.unsupported) return send({ unsupported: 'npm.load() did not say what to run' });
    try {
      npm.unload();
    } catch {}
    // npm's exit handler: the exit code the command set, else the error's; its message when npm printed none
    const exitCode = process.exitCode || (outcome ? Number(outcome.exitCode) || 1 : 0);
    const said = outcome && !stderr.text ? `npm error ${outcome.message}\n` : '';
    send({ i, timedOut: false, exitCode, stdout: stdout.text, stderr: stderr.text + said });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exit(1);
  },
);
