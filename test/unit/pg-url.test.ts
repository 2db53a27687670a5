import { describe, expect, it } from 'vitest';
import { readPgUrl, verifyPgTarget } from '../../src/db/pg-target.js';
import { OpsError } from '../../src/errors.js';

const problem = (url: string) => {
  const read = readPgUrl(url, 'DATABASE_URL');
  return 'problem' in read ? read.problem.message : undefined;
};

describe('readPgUrl: what is wrong with a database URL, never quoting its password', () => {
  it.each([
    ['postgres://app:pw@db:5432/shop', 'db:5432/shop'],
    ['postgresql://app:p%23w%3F%2F@db/shop', 'db:5432/shop'],
    ['postgres://app:pw@[::1]:6543/shop', '[::1]:6543/shop'],
    ['postgres://app@/shop?host=/run/postgresql', '/run/postgresql:5432/shop'],
    ['postgres://db/shop?user=app@tenant&sslmode=require', 'db:5432/shop'],
    ['postgres://app:pw@db/shop?options=-c%20search_path%3Dx', 'db:5432/shop'],
  ])('%s is fine (no false alarm)', (url, label) => {
    const read = readPgUrl(url);
    expect(read).toMatchObject({ target: { label } });
  });

  it.each([
    ['app:s3cret@db.example:5432/shop', 'the database URL (DATABASE_URL) has no scheme'],
    ['db.example/shop', 'the database URL (DATABASE_URL) has no scheme'],
    ['mysql://app:s3cret@db/shop', 'is a mysql:// URL'],
    ['postgres://app:s3cret@db:0/shop', 'port "0"'],
    ['postgres://app:s3cret@db:65536/shop', 'port "65536"'],
    ['postgres://app:s3cret@[::1]:x/shop', 'port "x"'],
    ['postgres://app:s3c#ret@db/shop', 'contains "#"'],
    ['postgres://app:s3c/r?et@db/shop', 'contains "/" and "?"'],
    ['postgres://app:s3cret@db/shop?sslrootcert=/no/such/ca.pem', '"/no/such/ca.pem" given as sslrootcert'],
    ['postgres://app:s3cret@db/shop?sslkey=./missing.key', 'given as sslkey'],
  ])('%s: %s', (url, says) => {
    const message = problem(url);
    expect(message).toContain(says);
    expect(message).not.toMatch(/s3c|ret/);
  });

  it('verifyPgTarget throws a usage error (exit 2) with a hint', () => {
    try {
      verifyPgTarget('app:s3cret@db/shop', 'database.url');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(OpsError);
      expect(err).toMatchObject({
        code: 'DB_URL',
        exitCode: 2,
        message: expect.stringMatching(/^The database URL \(database\.url\) has no scheme/),
      });
      expect((err as OpsError).hint).toContain('postgres://');
    }
  });
});
