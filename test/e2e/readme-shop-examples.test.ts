import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opsctl } from '../helpers/cli.js';

/** README examples that name parts of an app must fit the example app (examples/shop), as a new user tries them. */
const repo = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(repo, 'README.md'), 'utf8');
const PG = process.env.OPSCTL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dbName = `opsctl_shop_examples_${process.pid}`;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'opsctl-shop-examples-'));
  cpSync(join(repo, 'examples', 'shop'), dir, {
    recursive: true,
    filter: (src) => !/[\\/](node_modules|\.opsctl|\.env)$/.test(src),
  });
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  await admin.query(`drop database if exists ${dbName}`);
  await admin.query(`create database ${dbName}`);
  await admin.end();
});
afterAll(async () => {
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.end();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README examples fit examples/shop', () => {
  it('the encryption example names a column the shop has (orders.customer_email)', () => {
    const columns = /^ {2}columns: \[([^\]]+)\]/m.exec(readme)?.[1];
    expect(columns).toBe('orders.customer_email');
    const migration = readFileSync(join(repo, 'examples/shop/backend/migrations/0002_create_orders.sql'), 'utf8');
    expect(migration).toMatch(/^\s+customer_email text/m);
    expect(readme).not.toContain('orders.email');
  });

  it('the "Several hosts" loadBalancer line is one lb haproxy accepts for the shop (two packages with ports)', async () => {
    const section = readme.slice(readme.indexOf('### Several hosts'));
    const line = /^ {4}(loadBalancer: \{.*\})/m.exec(section)?.[1]?.replace(/\s+#.*$/, '');
    expect(line).toBeDefined();
    const config = readFileSync(join(dir, 'opsctl.config.yaml'), 'utf8');
    writeFileSync(
      join(dir, 'opsctl.config.yaml'),
      `${config}\ntargets:\n  production:\n    hosts: [deploy@10.0.0.11, deploy@10.0.0.12]\n    path: /srv/shop\n    ${line}\n`,
    );
    const res = await opsctl(['-C', dir, 'lb', 'haproxy', '--target', 'production']);
    expect(res.stderr).toBe('');
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toContain('backend shop_api\n');
    expect(res.stdout).toContain('backend shop_web\n');
  });

  it('the db seed examples run on the shop, and its seeds are idempotent', async () => {
    const url = PG.replace(/\/[^/]*$/, `/${dbName}`);
    const env = { DATABASE_URL: url, OPSCTL_ENV: undefined };
    expect((await opsctl(['-C', dir, 'migrate'], { env })).exitCode).toBe(0);
    const block = /### `opsctl db seed`\n\n```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = block.split('\n').filter((l) => l.startsWith('opsctl db seed'));
    expect(commands.length).toBe(3);
    const count = async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return Number((await client.query('select count(*) from products')).rows[0].count);
      } finally {
        await client.end();
      }
    };
    const before = await count();
    for (const line of [...commands, commands[0]!]) {
      const args = line
        .replace(/\s+#.*$/, '')
        .split(/\s+/)
        .slice(1);
      const res = await opsctl(['-C', dir, ...args], { env });
      expect(res.exitCode, `${line}\n${res.stdout}${res.stderr}`).toBe(0);
    }
    const after = await count();
    expect(after).toBeGreaterThan(before);
    // run once more: nothing new
    expect((await opsctl(['-C', dir, 'db', 'seed'], { env })).exitCode).toBe(0);
    expect(await count()).toBe(after);
  });
});
