import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { embeddedPaths, embeddedUrl, readEmbeddedState, writeEmbeddedState } from '../../src/db/embedded-state.js';
import { verifyTraversable } from '../../src/db/os-user.js';
import { isPostmasterRunning, pidFile, removeStaleLockFiles } from '../../src/db/postmaster.js';
import { redact } from '../../src/output/redact.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'opsctl-unit-'));
  mkdirSync(embeddedPaths(root).dataDir, { recursive: true });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('stale postmaster.pid', () => {
  const writePid = (pid: number) => writeFileSync(pidFile(embeddedPaths(root).dataDir), `${pid}\n${root}\n`);

  it('removes a pid file whose process is gone', () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writePid(dead);
    expect(isPostmasterRunning(embeddedPaths(root).dataDir)).toBe(false);
    expect(removeStaleLockFiles(embeddedPaths(root).dataDir, embeddedPaths(root).socketDir)).toBe(true);
    expect(existsSync(pidFile(embeddedPaths(root).dataDir))).toBe(false);
  });

  it('removes a pid file whose pid was reused by a process that is not postgres', () => {
    writePid(process.pid); // alive, but node, not postgres
    expect(removeStaleLockFiles(embeddedPaths(root).dataDir, embeddedPaths(root).socketDir)).toBe(true);
  });

  it('removes a socket .lock file (and its socket) whose pid is not a live postgres', () => {
    const { dataDir, socketDir } = embeddedPaths(root);
    mkdirSync(socketDir, { recursive: true });
    writeFileSync(join(socketDir, '.s.PGSQL.54329.lock'), `${process.pid}\n${dataDir}\n`);
    writeFileSync(join(socketDir, '.s.PGSQL.54329'), '');
    removeStaleLockFiles(dataDir, socketDir);
    expect(existsSync(join(socketDir, '.s.PGSQL.54329.lock'))).toBe(false);
    expect(existsSync(join(socketDir, '.s.PGSQL.54329'))).toBe(false);
  });

  it('keeps nothing to remove when there is no pid file', () => {
    expect(removeStaleLockFiles(embeddedPaths(root).dataDir, embeddedPaths(root).socketDir)).toBe(false);
  });
});

describe('embedded state file', () => {
  it('is written 0600 and registers its password as a secret when read', () => {
    const state = { port: 54329, user: 'postgres', password: 'unit-pw-5f1c9a', database: 'app' };
    writeEmbeddedState(root, state);
    expect(statSync(embeddedPaths(root).stateFile).mode & 0o777).toBe(0o600);
    expect(readEmbeddedState(root)).toEqual(state);
    expect(redact(`password is unit-pw-5f1c9a`)).not.toContain('unit-pw-5f1c9a');
    expect(embeddedUrl(state)).toBe('postgres://postgres:unit-pw-5f1c9a@127.0.0.1:54329/app');
  });
});

describe('verifyTraversable', () => {
  it('names the folder the server user cannot enter, with a hint', () => {
    const locked = join(root, 'locked');
    mkdirSync(join(locked, 'app', '.opsctl'), { recursive: true, mode: 0o700 });
    const st = statSync(locked);
    const stranger = { uid: st.uid + 12345, gid: st.gid + 12345 };
    expect(() => verifyTraversable(join(locked, 'app', '.opsctl', 'pg'), stranger)).toThrow(
      expect.objectContaining({
        message: expect.stringContaining(`cannot enter "${locked}`),
        hint: expect.stringContaining('chmod o+x'),
      }),
    );
  });

  it('accepts folders open to others, and does nothing without a separate server user', () => {
    const open = join(root, 'open', 'app');
    mkdirSync(join(open, '.opsctl'), { recursive: true });
    for (const dir of [root, join(root, 'open'), open, join(open, '.opsctl')]) spawnSync('chmod', ['755', dir]);
    expect(() => verifyTraversable(join(open, '.opsctl', 'pg'), { uid: 99999, gid: 99999 })).not.toThrow();
    expect(() => verifyTraversable('/root/x/y', {})).not.toThrow();
  });
});
