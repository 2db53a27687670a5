import { describe, expect, it } from 'vitest';
import { classifyRedisError } from '../../src/redis/classify-error.js';
import { parseRedisTarget } from '../../src/redis/probe.js';

const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });

describe('classifyRedisError', () => {
  it.each([
    ['NOAUTH Authentication required.', 'noauth'],
    ['Ready check failed: NOAUTH Authentication required.', 'noauth'],
    ['WRONGPASS invalid username-password pair or user is disabled.', 'wrongpass'],
    ['WRONGPASS invalid username-password pair', 'wrongpass'],
    ['ERR invalid password', 'wrongpass'],
    ['ERR Client sent AUTH, but no password is set', 'no-password-set'],
    ['LOADING Redis is loading the dataset in memory', 'loading'],
  ])('reply "%s" is %s', (message, expected) => {
    expect(classifyRedisError(reply(message))).toBe(expected);
  });

  it('tells NOAUTH (no password given) and WRONGPASS (wrong one) apart', () => {
    expect(classifyRedisError(reply('NOAUTH Authentication required.'))).not.toBe(
      classifyRedisError(reply('WRONGPASS invalid username-password pair or user is disabled.')),
    );
  });

  it.each([
    ['ECONNREFUSED', 'refused'],
    ['ENOTFOUND', 'dns'],
    ['ETIMEDOUT', 'timeout'],
    ['ECONNRESET', 'closed'],
  ])('socket code %s is %s', (code, expected) => {
    expect(classifyRedisError(Object.assign(new Error(`connect ${code}`), { code }))).toBe(expected);
  });

  it('handles a Node 20 AggregateError with an empty message', () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED ::1:6379'), { code: 'ECONNREFUSED' });
    expect(classifyRedisError(Object.assign(new AggregateError([inner], ''), { code: 'ECONNREFUSED' }))).toBe(
      'refused',
    );
  });

  it('treats "Connection is closed." as closed', () => {
    expect(classifyRedisError(new Error('Connection is closed.'))).toBe('closed');
  });
});

describe('parseRedisTarget', () => {
  it('reads host and port, and whether a password is given, never the password itself', () => {
    const t = parseRedisTarget('redis://:hunter22@cache.internal:6380/2');
    expect(t).toEqual({
      host: 'cache.internal',
      port: 6380,
      tls: false,
      hasPassword: true,
      label: 'cache.internal:6380',
    });
    expect(JSON.stringify(t)).not.toContain('hunter22');
  });

  it('defaults to port 6379 and knows rediss:// is TLS', () => {
    expect(parseRedisTarget('rediss://cache')).toMatchObject({ port: 6379, tls: true, hasPassword: false });
  });

  it('rejects what is not a redis URL', () => {
    expect(parseRedisTarget('http://cache')).toBeUndefined();
  });
});
