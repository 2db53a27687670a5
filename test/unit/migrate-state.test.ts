import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { type Session, stateTableStorage } from '../../src/db/migrate/state.js';

/** A session whose client refuses every query: what is asked of it here must be answered without the database. */
function offlineSession(): Session {
  const client = {
    query: () => Promise.reject(new Error('no query expected')),
    escapeLiteral: (v: string) => `'${v}'`,
  } as unknown as pg.Client;
  return { client, state: { schema: 'public', table: 'opsctl_migrations' }, dryRun: false, notRun: [] };
}

/** The step of a plain SQL migration that already wrote its state row and committed in its own query. */
function loggedStep(session: Session, name: string): void {
  session.current = { name, checksum: `sum-${name}`, startedAt: 0, transaction: true, logged: true };
}

describe('stateTableStorage', () => {
  it('answers umzug’s executed() from the rows read under the lock, without reading the table again', async () => {
    const context = offlineSession();
    const storage = stateTableStorage(['0001_a', '0002_b']);
    expect(await storage.executed({ context })).toEqual(['0001_a', '0002_b']);
  });

  it('keeps executed() up to date as migrations are logged and unlogged', async () => {
    const context = offlineSession();
    const storage = stateTableStorage(['0001_a']);
    loggedStep(context, '0002_b');
    await storage.logMigration({ name: '0002_b', context });
    expect(await storage.executed({ context })).toEqual(['0001_a', '0002_b']);
    loggedStep(context, '0002_b');
    await storage.unlogMigration({ name: '0002_b', context });
    expect(await storage.executed({ context })).toEqual(['0001_a']);
  });

  it('does not count a migration whose state row could not be written', async () => {
    const context = offlineSession();
    const storage = stateTableStorage([]);
    context.current = { name: '0001_a', checksum: 'sum', startedAt: 0, transaction: false };
    await expect(storage.logMigration({ name: '0001_a', context })).rejects.toThrow('no query expected');
    expect(await storage.executed({ context })).toEqual([]);
  });
});
