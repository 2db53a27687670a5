import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupAlive } from '../../src/process/process-group.js';
import { BIN, hasStackTrace, opsctl } from '../helpers/cli.js';
import { createShopApp, health, type ShopApp } from '../helpers/deploy-app.js';
import { waitFor } from '../helpers/wait.js';

/** One deploy/start/stop/restart/scale per app (README, "One at a time"), and what a signal mid-build leaves. */

let shop: ShopApp;
let lockFile: string;
let buildScript: string;
let fastBuild: string;
let pidFile: string;

beforeAll(async () => {
  shop = await createShopApp('deploy-lock');
  lockFile = join(shop.dir, '.opsctl', 'deploy.lock');
  buildScript = join(shop.dir, 'frontend', 'scripts', 'build.js');
  fastBuild = readFileSync(buildScript, 'utf8');
  pidFile = join(shop.dir, 'build.pid');
  const first = await shop.run(['deploy']);
  expect(first.exitCode, first.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await shop?.cleanup();
});

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** opsctl in the background (the tests signal it), with the app's environment. */
function start(args: string[], dir = shop.dir): Running {
  const child = spawn(process.execPath, [BIN, '-C', dir, ...args], {
    env: { ...process.env, NO_COLOR: '1', ...shop.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** A build that writes its pid, then keeps writing dist/ files for a minute (the orphan of the issue). */
function useSlowBuild(): void {
  writeFileSync(
    buildScript,
    `import { mkdirSync, writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));
mkdirSync('dist', { recursive: true });
let n = 0;
const timer = setInterval(() => writeFileSync(\`dist/tick-\${n++}.txt\`, 'x'), 100);
setTimeout(() => clearInterval(timer), 60_000);
`,
  );
}

const isRunning = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};
const pgidOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
};
const currentFrontend = () => readlinkSync(join(shop.dir, '.opsctl', 'releases', 'frontend', 'current'));
const distFiles = () => readdirSync(join(shop.dir, 'frontend', 'dist')).length;

/** A `deploy frontend` stuck in its slow build: the opsctl run, and the build's pid and process group. */
async function deployInSlowBuild(): Promise<{ run: Running; buildPid: number; pgid: number }> {
  useSlowBuild();
  writeFileSync(pidFile, '');
  const run = start(['deploy', 'frontend']);
  await waitFor('the slow build to start', () => readFileSync(pidFile, 'utf8') !== '', 60_000);
  const buildPid = Number(readFileSync(pidFile, 'utf8'));
  return { run, buildPid, pgid: pgidOf(buildPid) };
}

describe('a second deploy/stop while a deploy runs', () => {
  it('exits 5 naming the holder (human and --json), touches nothing; --dry-run still answers', async () => {
    const release = currentFrontend();
    const { run, buildPid, pgid } = await deployInSlowBuild();
    try {
      expect(existsSync(lockFile)).toBe(true);
      const holder = JSON.parse(readFileSync(lockFile, 'utf8'));
      expect(holder).toMatchObject({ pid: run.child.pid, command: 'deploy' });
      expect(holder.commandLine).toContain('opsctl -C');
      expect(typeof holder.hostname).toBe('string');

      const human = await shop.run(['deploy']);
      expect(human.exitCode, human.stderr).toBe(5);
      expect(human.stderr).toMatch(
        new RegExp(
          `✖ Another opsctl deploy is running on this app \\(pid ${run.child.pid}, "opsctl -C .* deploy frontend", since \\d\\d:\\d\\d:\\d\\d\\)\\.`,
        ),
      );
      expect(human.stderr).toContain('→ Wait for it to finish');
      expect(human.stderr).not.toContain('ENOTEMPTY');
      expect(hasStackTrace(human.stderr)).toBe(false);

      const json = await shop.run(['deploy', '--json']);
      expect(json.exitCode).toBe(5);
      const doc = JSON.parse(json.stdout);
      expect(doc).toMatchObject({ command: 'deploy', ok: false, exitCode: 5, error: { code: 'APP_LOCKED' } });
      expect(doc.error.message).toContain(`(pid ${run.child.pid}, "opsctl -C`);
      // the holder as fields too, so a pipeline can wait on it without parsing the message
      expect(doc.error.holder).toEqual({
        pid: run.child.pid,
        command: 'deploy',
        commandLine: holder.commandLine,
        since: holder.since,
        hostname: holder.hostname,
      });

      for (const args of [['stop'], ['restart', 'backend'], ['scale', 'backend', '2'], ['start']]) {
        const other = await shop.run([...args, '--json']);
        expect(other.exitCode, `${args.join(' ')}: ${other.stderr}`).toBe(5);
        expect(JSON.parse(other.stdout).error.message).toContain(`pid ${run.child.pid}`);
      }
      expect(await health(shop.ports.backend)).toBe(200); // stop did not stop anything

      const dry = await shop.run(['deploy', '--dry-run']);
      expect(dry.exitCode, dry.stderr).toBe(0);
      // the holder's lock is still the holder's
      expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(run.child.pid);
    } finally {
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(130);
    }
    expect(isRunning(buildPid)).toBe(false);
    expect(groupAlive(pgid)).toBe(false);
    expect(existsSync(lockFile)).toBe(false);
    expect(currentFrontend()).toBe(release);
  }, 120_000);
});

describe('a signal during the build', () => {
  it.each([
    ['SIGINT', 130, 'Interrupted.'],
    ['SIGTERM', 143, 'Terminated (SIGTERM).'],
  ] as const)(
    '%s: exit %i, the build tree ended, lock gone, the old release still serving',
    async (signal, code, message) => {
      const release = currentFrontend();
      const { run, buildPid, pgid } = await deployInSlowBuild();
      expect(isRunning(buildPid)).toBe(true);
      expect(pgid).not.toBe(pgidOf(run.child.pid!)); // the build runs in a group of its own
      run.child.kill(signal);
      expect(await run.exited).toBe(code);
      expect(run.stderr()).toContain(`✖ ${message}`);
      // nothing of the build outlives opsctl: not the node process, not npm's sh, nothing in its group
      expect(isRunning(buildPid)).toBe(false);
      expect(groupAlive(pgid)).toBe(false);
      const files = distFiles();
      await new Promise((r) => setTimeout(r, 500));
      expect(distFiles()).toBe(files); // nobody is writing dist/ any more
      expect(existsSync(lockFile)).toBe(false);
      expect(currentFrontend()).toBe(release);
      expect(await health(shop.ports.frontend)).toBe(200);
    },
    120_000,
  );
});

describe('a signal during npm ci', () => {
  it('ends npm and its scripts, keeps the old backend serving; the next deploy deploys', async () => {
    const manifestFile = join(shop.dir, 'backend', 'package.json');
    const manifest = readFileSync(manifestFile, 'utf8');
    const release = readlinkSync(join(shop.dir, '.opsctl', 'releases', 'backend', 'current'));
    const marker = join(shop.dir, 'slow-install');
    const pkg = JSON.parse(manifest);
    // npm ci runs the package's own postinstall: slow (and telling its pid) while the marker exists
    pkg.scripts.postinstall = `node -e "const f=require('fs');if(f.existsSync(${JSON.stringify(marker).replaceAll('"', '\\"')})){f.writeFileSync(${JSON.stringify(pidFile).replaceAll('"', '\\"')},String(process.pid));setTimeout(()=>{},60000)}"`;
    writeFileSync(manifestFile, JSON.stringify(pkg, null, 2));
    writeFileSync(marker, '');
    writeFileSync(pidFile, '');
    try {
      const run = start(['deploy', 'backend']);
      await waitFor('the postinstall script to start', () => readFileSync(pidFile, 'utf8') !== '', 90_000);
      const scriptPid = Number(readFileSync(pidFile, 'utf8'));
      const pgid = pgidOf(scriptPid);
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(130);
      expect(isRunning(scriptPid)).toBe(false);
      expect(groupAlive(pgid)).toBe(false);
      expect(existsSync(lockFile)).toBe(false);
      expect(readlinkSync(join(shop.dir, '.opsctl', 'releases', 'backend', 'current'))).toBe(release);
      expect(await health(shop.ports.backend)).toBe(200);
    } finally {
      rmSync(marker, { force: true });
    }
    const next = await shop.run(['deploy', 'backend', '--json']);
    expect(next.exitCode, next.stderr).toBe(0);
    const install = JSON.parse(next.stdout).packages.find((p: { name: string }) => p.name === 'backend').steps[0];
    // npm had finished unpacking (its hidden lockfile says so) before the postinstall was cut short
    expect(install).toMatchObject({ step: 'install', status: 'skipped', reason: 'node_modules matches the lockfile' });
    expect(existsSync(join(shop.dir, 'backend', 'node_modules', 'pg', 'package.json'))).toBe(true);
    expect(await health(shop.ports.backend)).toBe(200);
  }, 180_000);
});

describe('after an interrupted build', () => {
  it('the next deploy builds again (the half-written dist/ is not taken for the last good build)', async () => {
    // slow only while a marker outside the package exists, so the package's inputs are those of its last good build
    const marker = join(shop.dir, 'slow-build');
    writeFileSync(
      buildScript,
      `${fastBuild}\nimport { existsSync as slow, writeFileSync as pidOut } from 'node:fs';\nif (slow(${JSON.stringify(marker)})) { pidOut(${JSON.stringify(pidFile)}, String(process.pid)); await new Promise((r) => setTimeout(r, 60_000)); }\n`,
    );
    const good = await shop.run(['deploy', 'frontend']);
    expect(good.exitCode, good.stderr).toBe(0);
    writeFileSync(marker, '');
    writeFileSync(pidFile, '');
    const run = start(['deploy', 'frontend', '--force']);
    await waitFor('the forced build to start', () => readFileSync(pidFile, 'utf8') !== '', 60_000);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    rmSync(marker);
    const next = await shop.run(['deploy', 'frontend', '--json']);
    expect(next.exitCode, next.stderr).toBe(0);
    const build = JSON.parse(next.stdout).packages.find((p: { name: string }) => p.name === 'frontend').steps[1];
    expect(build).toMatchObject({ step: 'build', status: 'done' });
  }, 120_000);
});

describe('two deploys at once', () => {
  it('one deploys, the other exits 5 naming the first one, before touching anything', async () => {
    writeFileSync(buildScript, `${fastBuild}\n// changed: ${Date.now()}\n`);
    const a = start(['deploy', 'frontend', '--json']);
    const b = start(['deploy', 'frontend', '--json']);
    const codes = [await a.exited, await b.exited];
    expect(codes.sort()).toEqual([0, 5]);
    const [winner, loser] = codes[0] === 0 && (await a.exited) === 0 ? [a, b] : [b, a];
    const doc = JSON.parse(loser.stdout());
    expect(doc).toMatchObject({ ok: false, exitCode: 5, error: { code: 'APP_LOCKED' } });
    expect(doc.error.message).toContain(`pid ${winner.child.pid}`);
    expect(loser.stderr()).not.toMatch(/ENOTEMPTY|Reload already in progress/);
    expect(JSON.parse(winner.stdout())).toMatchObject({ ok: true, exitCode: 0 });
    expect(existsSync(lockFile)).toBe(false);
    expect(readdirSync(join(shop.dir, '.opsctl', 'releases', 'frontend')).filter((n) => n.includes('.tmp-'))).toEqual(
      [],
    );
    expect(await health(shop.ports.frontend)).toBe(200);
  }, 120_000);
});

const deadPid = async () => {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((done) => child.on('exit', done));
  return child.pid!;
};

describe('a stale lock', () => {
  it('of a dead pid is taken over, saying so; it is gone afterwards', async () => {
    const pid = await deadPid();
    const stale = {
      pid,
      command: 'deploy',
      commandLine: 'opsctl deploy',
      since: new Date(Date.now() - 3_600_000).toISOString(),
      hostname: hostname(),
    };
    writeFileSync(lockFile, JSON.stringify(stale));
    const res = await shop.run(['scale', 'backend', '1']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toContain(`⚠ Took over the app's lock ${lockFile} from pid ${pid}, "opsctl deploy", since`);
    expect(res.stderr).toContain(`pid ${pid} is no longer running.`);
    expect(existsSync(lockFile)).toBe(false);
  });

  it('whose pid now runs another program (another start time) is taken over', async () => {
    const sleeper = spawn('sleep', ['30']);
    try {
      const stale = {
        pid: sleeper.pid,
        command: 'stop',
        commandLine: 'opsctl stop',
        since: new Date().toISOString(),
        hostname: hostname(),
        pidStart: 1,
      };
      writeFileSync(lockFile, JSON.stringify(stale));
      const res = await shop.run(['scale', 'backend', '1', '--json']);
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.stderr).toContain(`pid ${sleeper.pid} now belongs to another process.`);
      expect(existsSync(lockFile)).toBe(false);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('a half-copied release of a dead opsctl is pruned by the next deploy', async () => {
    const pid = await deadPid();
    const leftover = join(shop.dir, '.opsctl', 'releases', 'frontend', `0123456789ab.tmp-${pid}`);
    mkdirSync(join(leftover, 'src'), { recursive: true });
    writeFileSync(buildScript, `${fastBuild}\n// changed again: ${Date.now()}\n`);
    const res = await shop.run(['deploy', 'frontend']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(existsSync(leftover)).toBe(false);
  }, 120_000);
});

describe('an app root with a space', () => {
  it('holds its lock in "<root>/.opsctl/deploy.lock": a stale one is taken over, a live one is exit 5', async () => {
    const root = mkdtempSync(join(tmpdir(), 'opsctl lock space '));
    try {
      const lib = join(root, 'lib');
      mkdirSync(lib);
      const libPid = join(root, 'build.pid');
      writeFileSync(
        join(lib, 'package.json'),
        JSON.stringify({ name: 'lib', version: '1.0.0', scripts: { build: 'node build.js' } }),
      );
      writeFileSync(
        join(lib, 'build.js'),
        `require('node:fs').writeFileSync(${JSON.stringify(libPid)}, String(process.pid)); setTimeout(() => {}, 60_000);`,
      );
      const lock = join(root, '.opsctl', 'deploy.lock');
      mkdirSync(join(root, '.opsctl'));
      const pid = await deadPid();
      writeFileSync(
        lock,
        JSON.stringify({
          pid,
          command: 'deploy',
          commandLine: 'opsctl deploy',
          since: new Date().toISOString(),
          hostname: hostname(),
        }),
      );

      const run = start(['deploy', '--force'], root);
      await waitFor(
        'the build in the spaced path',
        () => existsSync(libPid) && readFileSync(libPid, 'utf8') !== '',
        60_000,
      );
      expect(JSON.parse(readFileSync(lock, 'utf8')).pid).toBe(run.child.pid);
      const second = await opsctl(['-C', root, 'deploy', '--json']);
      expect(second.exitCode).toBe(5);
      expect(JSON.parse(second.stdout).error.message).toContain(`pid ${run.child.pid}`);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(143);
      expect(run.stderr()).toContain(`⚠ Took over the app's lock ${lock} from pid ${pid}`);
      expect(isRunning(Number(readFileSync(libPid, 'utf8')))).toBe(false);
      expect(existsSync(lock)).toBe(false);

      // a failed deploy gives the lock back too
      writeFileSync(join(lib, 'build.js'), "console.error('build broke'); process.exit(1);");
      const failed = await opsctl(['-C', root, 'deploy']);
      expect(failed.exitCode, failed.stderr).toBe(3);
      expect(existsSync(lock)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 90_000);
});
