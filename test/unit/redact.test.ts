import { afterEach, describe, expect, it } from 'vitest';
import {
  addEnvValue,
  addSecret,
  addSecretsFromEnv,
  addUrlPassword,
  clearSecrets,
  MASK,
  redact,
  redactValue,
} from '../../src/output/redact.js';

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

  it("masks DB_PWD but not the shell's PWD and OLDPWD (the current folder)", () => {
    addSecretsFromEnv({ PWD: '/srv/shop', OLDPWD: '/home/ops', DB_PWD: 'hunter22x' });
    expect(redact('in /srv/shop (was /home/ops) with hunter22x')).toBe(`in /srv/shop (was /home/ops) with ${MASK}`);
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

  it('parses URLs: query passwords, unusual characters in the password, no scheme', () => {
    const cases: Array<[string, string]> = [
      [
        'postgres://app@db:5432/shop?sslmode=require&password=qs-Pass-77',
        'postgres://app@db:5432/shop?sslmode=require&password=****',
      ],
      ['https://api.example/v1?api_key=k3y-value&x=1', 'https://api.example/v1?api_key=****&x=1'],
      ['postgres://app:sl/ash-Pass-77@db:5432/shop', 'postgres://app:****@db:5432/shop'],
      ['postgres://app:at@sign-Pass-77@db:5432/shop', 'postgres://app:****@db:5432/shop'],
      ['postgres://app:ha#sh?q-Pass-77@db:5432/shop', 'postgres://app:****@db:5432/shop'],
      ['app:no-scheme-Pass-77@db:5432/shop', 'app:****@db:5432/shop'],
      ['postgres://[::1]:5432/shop', 'postgres://[::1]:5432/shop'],
    ];
    for (const [url, shown] of cases) {
      expect(redact(`connect "${url}" failed`)).toBe(`connect "${shown}" failed`);
      expect(redactValue({ url })).toEqual({ url: shown });
    }
  });

  it('parses a whole URL value with a space in its password, and learns its password for free text', () => {
    const url = 'postgres://app:spa ce-Pass-77@db:5432/shop';
    expect(redactValue(url)).toBe('postgres://app:****@db:5432/shop');
    addUrlPassword(url);
    expect(redact(`could not connect with ${url}`)).toBe('could not connect with postgres://app:****@db:5432/shop');
  });

  it('leaves URLs without secrets alone, @ in a path included', () => {
    for (const text of [
      'GET https://registry.example:443/@scope/pkg 200',
      'see https://github.com/org/repo@v1.2.3 and git@github.com:org/repo.git',
      'postgres://db.internal:5432/shop?sslmode=require',
      'time 12:30:01 user@example.com',
    ]) {
      expect(redact(text)).toBe(text);
    }
  });

  it('reads a JSON string as one URL only when it is one, not a sentence with a colon and an @', () => {
    for (const text of [
      'TypeError: Cannot read properties of undefined at handler@1.2.3',
      'https://api.example failed: ask ops@example.com',
      'port 5432: in use by postgres@db',
    ]) {
      expect(redactValue({ message: text })).toEqual({ message: text });
    }
  });

  it('masks a registered secret only as a whole token, never inside a longer word', () => {
    addSecret('info1234');
    addSecret('s3cr3t');
    expect(redact('information info1234 info12345 xinfo1234')).toBe(`information ${MASK} info12345 xinfo1234`);
    expect(redact('"s3cr3t", s3cr3t. (s3cr3t) key=s3cr3t&x')).toBe(`"${MASK}", ${MASK}. (${MASK}) key=${MASK}&x`);
  });

  it('learns .env values by name or by how generated they look, never plain settings (README, "Output")', () => {
    for (const [name, value] of Object.entries({
      LOG_LEVEL: 'info',
      FEATURE: 'true',
      PORT: '3000',
      NODE_ENV: 'production',
      DB_USER: 'postgres',
      DB_NAME: 'shop_db',
      HOST: 'db1.internal.example',
      LOG_DIR: '/var/log/app2',
      VERSION: 'v1.22.3',
      REDIS_URL: 'redis://127.0.0.1:6380',
      SESSION_SEED: 'x7Gh2kLp9q',
      API_KEY: 'short',
    })) {
      addEnvValue(name, value);
    }
    // `postgres` is also the id of doctor's check: masking it broke `--json` consumers
    expect(
      redact('information: info true 3000 production postgres shop_db db1.internal.example /var/log/app2 v1.22.3'),
    ).toBe('information: info true 3000 production postgres shop_db db1.internal.example /var/log/app2 v1.22.3');
    expect(redact('at redis://127.0.0.1:6380')).toBe('at redis://127.0.0.1:6380');
    expect(redact('seed x7Gh2kLp9q key short')).toBe(`seed ${MASK} key ${MASK}`);
  });
});
