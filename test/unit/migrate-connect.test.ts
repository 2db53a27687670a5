import { describe, expect, it } from 'vitest';
import { classifyConnectError, verifyDatabaseUrl } from '../../src/db/migrate/connect.js';
import { lockKeys } from '../../src/db/migrate/lock.js';
import { isOpsError } from '../../src/errors.js';

const URL = 'postgres://app:s3cret-pw@db.internal:6543/shop';
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('classifyConnectError', () => {
  it.each([
    [
      Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' }),
      'DB_NOT_RUNNING',
      'PostgreSQL is not running at db.internal:6543',
    ],
    [pgError('ENOTFOUND', 'getaddrinfo ENOTFOUND db.internal'), 'DB_DNS', 'db.internal'],
    [
      pgError('28P01', 'password authentication failed for user "app"'),
      'DB_AUTH',
      'db.internal:6543 rejected the password for user "app"',
    ],
    [
      pgError('28000', 'no pg_hba.conf entry for host "1.2.3.4", user "app", database "shop", no encryption'),
      'DB_TLS_REQUIRED',
      'requires TLS',
    ],
    [
      pgError('3D000', 'database "shop" does not exist'),
      'DB_MISSING',
      'database "shop" does not exist on db.internal:6543',
    ],
    [new Error('timeout expired'), 'DB_TIMEOUT', 'did not answer within the connect timeout'],
    [pgError('57P03', 'the database system is starting up'), 'DB_STARTING', 'starting up'],
  ])('%#: tells the cause apart (exit 4) and never shows the password', (err, code, text) => {
    const ops = classifyConnectError(err, URL);
    expect(ops).toMatchObject({ code, exitCode: 4 });
    expect(ops.message).toContain(text);
    expect(ops.hint).toBeTruthy();
    expect(`${ops.message} ${ops.hint}`).not.toContain('s3cret-pw');
  });
});

describe('verifyDatabaseUrl', () => {
  const base = { table: 'opsctl_migrations', schema: 'public' };
  it('production without a URL is a config error (exit 2); an embedded one not started is exit 4', () => {
    const outcome = (database: Parameters<typeof verifyDatabaseUrl>[0]) => {
      try {
        return verifyDatabaseUrl(database);
      } catch (err) {
        return isOpsError(err) ? err.exitCode : err;
      }
    };
    expect(outcome({ ...base, source: 'none' })).toBe(2);
    expect(outcome({ ...base, source: 'embedded' })).toBe(4);
    expect(outcome({ ...base, source: 'env', url: URL })).toBe(URL);
  });
});

describe('lockKeys', () => {
  it('one stable, non-negative lock per schema.table', () => {
    const [ns, key] = lockKeys('public', 'opsctl_migrations');
    expect(ns).toBe(0x6f707363);
    expect(key).toBeGreaterThanOrEqual(0);
    expect(lockKeys('public', 'opsctl_migrations')).toEqual([ns, key]);
    expect(lockKeys('other', 'opsctl_migrations')[1]).not.toBe(key);
  });
});
