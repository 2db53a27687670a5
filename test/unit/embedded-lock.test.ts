import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { embeddedLockFile, withEmbeddedLock } from '../../src/db/embedded-lock.js';
import { OpsError } from '../../src/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'opsctl-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('withEmbeddedLock', () => {
  it('runs the work holding the lock file and removes it after, also when the work throws', async () => {
    const seen = await withEmbeddedLock(dir, 'start', { timeoutMs: 1000 }, async () =>
      existsSync(embeddedLockFile(dir)),
    );
    expect(seen).toBe(true);
    expect(existsSync(embeddedLockFile(dir))).toBe(false);
    await expect(
      withEmbeddedLock(dir, 'start', { timeoutMs: 1000 }, async () => {
        throw new Error('initdb failed');
      }),
    ).rejects.toThrow('initdb failed');
    expect(existsSync(embeddedLockFile(dir))).toBe(false);
  });

  it('takes over a lock left by a process that died', async () => {
    writeFileSync(
      embeddedLockFile(dir),
      JSON.stringify({ pid: deadPid(), since: new Date().toISOString(), action: 'start' }),
    );
    expect(await withEmbeddedLock(dir, 'start', { timeoutMs: 1000 }, async () => 'ran')).toBe('ran');
  });

  it('waits for a live holder, then gives up with exit 5 naming it', async () => {
    const since = new Date().toISOString();
    writeFileSync(embeddedLockFile(dir), JSON.stringify({ pid: process.ppid, since, action: 'start' }));
    const waits: string[] = [];
    const started = Date.now();
    const err = await withEmbeddedLock(
      dir,
      'start',
      { timeoutMs: 600, onWait: (m) => waits.push(m) },
      async () => 'ran',
    ).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(err).toBeInstanceOf(OpsError);
    expect(err).toMatchObject({ exitCode: 5, code: 'DB_START_LOCKED' });
    expect((err as OpsError).message).toContain(`pid ${process.ppid}, running \`db start\` since ${since}`);
    expect(waits).toEqual([`Waiting for opsctl (pid ${process.ppid}), which is running \`db start\``]);
    expect(existsSync(embeddedLockFile(dir))).toBe(true);
  });
});
