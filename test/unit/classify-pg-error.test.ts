import { describe, expect, it } from 'vitest';
import { classifyPgError } from '../../src/db/classify-pg-error.js';
import { parsePgTarget } from '../../src/db/pg-target.js';

/** A server error as pg's DatabaseError carries it: SQLSTATE in `code`, the server text in `message`. */
const serverError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: 'FATAL' });
const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });

describe('classifyPgError', () => {
  it.each([
    ['28P01', 'password authentication failed for user "app"', 'auth'],
    ['3D000', 'database "shop" does not exist', 'database-missing'],
    ['57P03', 'the database system is starting up', 'starting'],
    ['53300', 'sorry, too many clients already', 'too-many-clients'],
    ['28000', 'no pg_hba.conf entry for host "10.0.0.5", user "app", database "shop", no encryption', 'tls-required'],
    ['28000', 'no pg_hba.conf entry for host "10.0.0.5", user "app", database "shop", SSL off', 'tls-required'],
    ['28000', 'no pg_hba.conf entry for host "10.0.0.5", user "app", database "shop", SSL encryption', 'not-allowed'],
    ['28000', 'role "app" is not permitted to log in', 'login-denied'],
    ['42P01', 'relation "x" does not exist', 'query'],
  ])('SQLSTATE %s (%s) is %s', (code, message, expected) => {
    expect(classifyPgError(serverError(code, message))).toBe(expected);
  });

  it('reads the code of a Node 20 AggregateError with an empty message', () => {
    const err = Object.assign(new AggregateError([socketError('ECONNREFUSED'), socketError('ECONNREFUSED')], ''), {
      code: 'ECONNREFUSED',
    });
    expect(err.message).toBe('');
    expect(classifyPgError(err)).toBe('refused');
  });

  it('reads an AggregateError without its own code from its first inner error', () => {
    expect(classifyPgError(new AggregateError([socketError('ECONNREFUSED')], ''))).toBe('refused');
  });

  it.each([
    ['ECONNREFUSED', 'refused'],
    ['ENOTFOUND', 'dns'],
    ['EAI_AGAIN', 'dns'],
    ['ETIMEDOUT', 'timeout'],
    ['EHOSTUNREACH', 'unreachable'],
    ['ECONNRESET', 'closed'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'tls-untrusted'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls-untrusted'],
  ])('socket/TLS code %s is %s', (code, expected) => {
    expect(classifyPgError(socketError(code))).toBe(expected);
  });

  it.each([
    ['The server does not support SSL connections', 'tls-unsupported'],
    ['There was an error establishing an SSL connection', 'tls-failed'],
    ['timeout expired', 'timeout'],
    ['Connection terminated due to connection timeout', 'timeout'],
    ['Query read timeout', 'timeout'],
    ['Connection terminated unexpectedly', 'closed'],
    ['something odd', 'unknown'],
  ])('library error "%s" is %s', (message, expected) => {
    expect(classifyPgError(new Error(message))).toBe(expected);
  });
});

describe('parsePgTarget', () => {
  it('reads host, port, database and user, never the password', () => {
    const t = parsePgTarget('postgres://app:s3cr%40t@db.internal:6543/shop?sslmode=require');
    expect(t).toEqual({
      host: 'db.internal',
      port: 6543,
      database: 'shop',
      user: 'app',
      socket: false,
      label: 'db.internal:6543/shop',
    });
    expect(JSON.stringify(t)).not.toContain('s3cr');
  });

  it('defaults the port to 5432 and the database to the user', () => {
    expect(parsePgTarget('postgresql://app@localhost')).toMatchObject({
      port: 5432,
      database: 'app',
      label: 'localhost:5432/app',
    });
  });

  it('knows a Unix socket host given as ?host=/path', () => {
    expect(parsePgTarget('postgres://app@/shop?host=/var/run/postgresql')).toMatchObject({
      host: '/var/run/postgresql',
      socket: true,
    });
  });

  it('brackets IPv6 hosts in the label', () => {
    expect(parsePgTarget('postgres://app@[::1]:5432/shop')?.label).toBe('[::1]:5432/shop');
  });

  it('rejects what is not a postgres URL', () => {
    expect(parsePgTarget('mysql://a@b/c')).toBeUndefined();
    expect(parsePgTarget('not a url')).toBeUndefined();
  });
});
