import { afterEach, describe, expect, it } from 'vitest';
import { addSecret, addSecretsFromEnv, clearSecrets, MASK, redact, redactValue } from '../../src/output/redact.js';

afterEach(() => clearSecrets());

describe('redact', () => {
  it('masks passwords inside URLs even when never registered', () => {
    expect(redact('connect postgres://app:s3cr3t-pw@db.internal:5432/shop failed')).toBe(
      `connect postgres://app:${MASK}@db.internal:5432/shop failed`,
    );
    expect(redact('redis://:hunter22@127.0.0.1:6379')).toBe(`redis://:${MASK}@127.0.0.1:6379`);
  });

  it('masks registered secrets wherever they appear, including URL-encoded forms', () => {
    addSecret('p@ss/word!');
    expect(redact('password is p@ss/word! ok')).toBe(`password is ${MASK} ok`);
    expect(redact(`x=${encodeURIComponent('p@ss/word!')}`)).toBe(`x=${MASK}`);
  });

  it('learns secret-named variables and URL passwords from an environment', () => {
    addSecretsFromEnv({
      STRIPE_API_KEY: 'sk_live_abcdef',
      DB_PASSWORD: 'letmein123',
      GITHUB_TOKEN: 'ghp_xyz123',
      AWS_CREDENTIALS: 'credvalue',
      DATABASE_URL: 'postgres://u:urlpass99@h/db',
      PORT: '4000',
    });
    const text = 'sk_live_abcdef letmein123 ghp_xyz123 credvalue urlpass99 4000';
    expect(redact(text)).toBe(`${MASK} ${MASK} ${MASK} ${MASK} ${MASK} 4000`);
  });

  it('does not mask short values that would hide ordinary text', () => {
    addSecret('ab');
    expect(redact('abc')).toBe('abc');
  });

  it('deep-redacts JSON values and masks secret-named keys', () => {
    addSecret('topsecret1');
    const out = redactValue({
      url: 'postgres://a:b1234@h/d',
      env: { API_TOKEN: 'anything', NAME: 'topsecret1' },
      list: ['topsecret1'],
    });
    expect(out).toEqual({
      url: `postgres://a:${MASK}@h/d`,
      env: { API_TOKEN: MASK, NAME: MASK },
      list: [MASK],
    });
  });
});
