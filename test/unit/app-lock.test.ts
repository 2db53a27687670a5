import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { acquireAppLock, appLockFile, describeHolder } from '../../src/app/app-lock.js';
import { ExitCode, OpsError } from '../../src/errors.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'opsctl app lock ')); // a space in the app root
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const write = (holder: object) => {
  mkdirSync(join(root, '.opsctl'), { recursive: true });
  writeFileSync(appLockFile(root), JSON.stringify(holder));
};

it('writes pid, command, command line, start time and host to .opsctl/deploy.lock (0600), and releases it', () => {
  const lock = acquireAppLock(root, 'deploy', 'opsctl deploy --force');
  expect(lock.file).toBe(join(root, '.opsctl', 'deploy.lock'));
  const holder = JSON.parse(readFileSync(lock.file, 'utf8'));
  expect(holder).toMatchObject({ pid: process.pid, command: 'deploy', commandLine: 'opsctl deploy --force' });
  expect(holder.hostname).toBe(hostname());
  expect(Date.parse(holder.since)).toBeGreaterThan(Date.now() - 60_000);
  expect(holder.pidStart).toBeGreaterThan(0);
  expect(statSync(lock.file).mode & 0o777).toBe(0o600);
  lock.release();
  lock.release();
  expect(() => statSync(lock.file)).toThrow();
});

it('a held lock is exit 5 naming the holder, and stays the holder’s', () => {
  const first = acquireAppLock(root, 'scale', 'opsctl scale backend 2');
  let error: unknown;
  try {
    acquireAppLock(root, 'stop', 'opsctl stop');
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(OpsError);
  expect((error as OpsError).exitCode).toBe(ExitCode.locked);
  expect((error as OpsError).message).toMatch(
    new RegExp(
      `^Another opsctl scale is running on this app \\(pid ${process.pid}, "opsctl scale backend 2", since \\d\\d:\\d\\d:\\d\\d\\)\\.$`,
    ),
  );
  expect(JSON.parse(readFileSync(first.file, 'utf8')).command).toBe('scale');
  first.release();
});

it('a lock written on another host is never taken over (its pid cannot be checked)', () => {
  write({
    pid: 999_999,
    command: 'deploy',
    commandLine: 'opsctl deploy',
    since: new Date().toISOString(),
    hostname: 'elsewhere',
  });
  expect(() => acquireAppLock(root, 'deploy', 'opsctl deploy')).toThrow(/pid 999999 on elsewhere, "opsctl deploy"/);
});

it('an unreadable lock file is taken over, saying why', () => {
  write({ nonsense: true });
  const lock = acquireAppLock(root, 'deploy', 'opsctl deploy');
  expect(lock.takenOver?.reason).toBe('its lock file was unreadable');
  // no made-up holder in the warning (`pid 0 on , "unreadable lock file", since 1970-01-01`)
  expect(describeHolder(lock.takenOver!.holder)).toBe('an unreadable lock file');
  lock.release();
});

it('release leaves a lock that is no longer ours alone', () => {
  const lock = acquireAppLock(root, 'deploy', 'opsctl deploy');
  write({ pid: 1, command: 'stop', commandLine: 'opsctl stop', since: new Date().toISOString(), hostname: hostname() });
  lock.release();
  expect(JSON.parse(readFileSync(lock.file, 'utf8')).command).toBe('stop');
});

it('an app root whose .opsctl cannot hold the lock is exit 3 saying so', () => {
  writeFileSync(join(root, '.opsctl'), 'a file, not a folder\n');
  let error: unknown;
  try {
    acquireAppLock(root, 'deploy', 'opsctl deploy');
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(OpsError);
  expect((error as OpsError).exitCode).toBe(ExitCode.failed);
  expect((error as OpsError).message).toBe(
    `Cannot write the app's lock ${join(root, '.opsctl', 'deploy.lock')} (EEXIST); nothing was changed.`,
  );
});
