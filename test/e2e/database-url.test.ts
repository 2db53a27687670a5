import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace, opsctl } from '../helpers/cli.js';

let app: string;

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'opsctl-dburl-'));
  mkdirSync(join(app, 'migrations'));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'dburl' }));
  writeFileSync(join(app, 'migrations', '0001_a.sql'), '-- up\ncreate table a (id int);\n');
});
afterAll(() => rmSync(app, { recursive: true, force: true }));

const PASSWORD = 'Tr0ub4dor';

/** A URL a person could really write, what the message must say, and what it must not. */
const CASES: Array<[label: string, url: string, says: string]> = [
  ['a port out of range', `postgres://app:${PASSWORD}@127.0.0.1:99999/shop`, 'port "99999"'],
  ['a port that is not a number', `postgres://app:${PASSWORD}@127.0.0.1:54x2/shop`, 'port "54x2"'],
  ['"#" in the password', `postgres://app:${PASSWORD}#1@127.0.0.1:5432/shop`, '"#"'],
  ['"?" in the password', `postgres://app:${PASSWORD}?1@127.0.0.1:5432/shop`, '"?"'],
  ['"#" in a numeric password', 'postgres://app:4242#Tr0ub4dor@127.0.0.1:5432/shop', '"#"'],
  [
    'a missing sslrootcert file',
    `postgres://app:${PASSWORD}@127.0.0.1:5432/shop?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem`,
    '"/nonexistent/ca.pem"',
  ],
  ['no scheme', `app:${PASSWORD}@db.example:5432/shop`, 'postgres://'],
  ['another scheme', `mysql://app:${PASSWORD}@db.example:3306/shop`, 'postgres://'],
];

describe('database URLs that cannot work are usage errors, never "a bug in opsctl"', () => {
  it.each(CASES)('%s: migrate status exits 2 with a clear message and hint, no password', async (_, url, says) => {
    const res = await opsctl(['-C', app, 'migrate', 'status', '--json'], {
      env: { DATABASE_URL: url, OPSCTL_ENV: undefined },
      timeoutMs: 30_000,
    });
    expect(res.exitCode).toBe(2);
    const { error } = JSON.parse(res.stdout) as { error: { message: string; hint: string } };
    expect(error.message).toContain('DATABASE_URL');
    expect(error.message).toContain(says);
    expect(error.hint).toBeTruthy();
    expect(`${res.stdout}${res.stderr}`).not.toMatch(/Tr0ub4dor|4242|bug in opsctl/);
    expect(hasStackTrace(res.stderr)).toBe(false);
  });

  it.each(CASES)('%s: doctor postgres fails with the same explanation', async (_, url, says) => {
    const res = await opsctl(['-C', app, 'doctor', '--only', 'postgres', '--json'], {
      env: { DATABASE_URL: url, OPSCTL_ENV: undefined },
      timeoutMs: 30_000,
    });
    expect(res.exitCode).toBe(1);
    const [check] = JSON.parse(res.stdout).checks as Array<{ status: string; message: string; hint: string }>;
    expect(check).toMatchObject({ status: 'fail', message: expect.stringContaining(says) });
    expect(check!.message).not.toContain('the check itself failed');
    expect(`${res.stdout}${res.stderr}`).not.toMatch(/Tr0ub4dor|4242/);
  });

  it('a URL with the special characters percent-encoded is accepted (no false alarm)', async () => {
    const res = await opsctl(['-C', app, 'migrate', 'status', '--json'], {
      // nothing listens on port 1: the URL is fine, so the failure is the connection (exit 4), not the URL
      env: { DATABASE_URL: `postgres://app:${PASSWORD}%23%3F%2F@127.0.0.1:1/shop`, OPSCTL_ENV: undefined },
      timeoutMs: 30_000,
    });
    expect(res.exitCode).toBe(4);
    expect(JSON.parse(res.stdout).error.message).toContain('127.0.0.1:1');
  });
});

describe('--env production whose database.url reads an unset ${VAR}', () => {
  let prod: string;
  beforeAll(() => {
    prod = mkdtempSync(join(tmpdir(), 'opsctl-dburl-prod-'));
    mkdirSync(join(prod, 'migrations'));
    writeFileSync(join(prod, 'package.json'), JSON.stringify({ name: 'dburl-prod' }));
    writeFileSync(join(prod, 'migrations', '0001_a.sql'), '-- up\ncreate table a (id int);\n');
    writeFileSync(
      join(prod, 'opsctl.config.yaml'),
      'environments:\n  production:\n    database:\n      url: ${PROD_DATABASE_URL}\n',
    );
  });
  afterAll(() => rmSync(prod, { recursive: true, force: true }));
  const env = { PROD_DATABASE_URL: undefined, DATABASE_URL: undefined, OPSCTL_ENV: undefined };

  it.each([
    ['rollback --yes', ['rollback', '--yes']],
    ['migrate --allow-drift (the missing database first, before any confirmation)', ['migrate', '--allow-drift']],
    ['migrate status', ['migrate', 'status']],
  ])('%s: exit 2 naming PROD_DATABASE_URL as the variable to set', async (_, args) => {
    const res = await opsctl(['-C', prod, '--env', 'production', ...args, '--json'], { env, timeoutMs: 30_000 });
    expect(res.exitCode).toBe(2);
    const { error } = JSON.parse(res.stdout) as { error: { message: string; hint: string } };
    expect(error.message).toBe(
      'No database URL for production: database.url reads ${PROD_DATABASE_URL}, which is not set (nor is DATABASE_URL).',
    );
    expect(error.hint).toContain('Set PROD_DATABASE_URL');
    expect(error.message + error.hint).not.toContain('confirmation');
  });
});
