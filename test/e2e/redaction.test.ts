import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opsctl } from '../helpers/cli.js';

let app: string;

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'opsctl-e2e-redact-'));
  mkdirSync(join(app, 'backend'));
  writeFileSync(join(app, 'backend', 'package.json'), JSON.stringify({ name: 'backend' }));
});
afterAll(() => rmSync(app, { recursive: true, force: true }));

/** Database URLs whose password a pattern misses, each with the password and what opsctl must print instead. */
const URLS: Array<{ url: string; password: string; shown: string }> = [
  {
    url: 'postgres://app@db.internal:5432/shop?sslmode=require&password=qs-Pass-77',
    password: 'qs-Pass-77',
    shown: 'postgres://app@db.internal:5432/shop?sslmode=require&password=****',
  },
  {
    url: 'postgres://app:sl/ash-Pass-77@db.internal:5432/shop',
    password: 'sl/ash-Pass-77',
    shown: 'postgres://app:****@db.internal:5432/shop',
  },
  {
    url: 'postgres://app:at@sign-Pass-77@db.internal:5432/shop',
    password: 'at@sign-Pass-77',
    shown: 'postgres://app:****@db.internal:5432/shop',
  },
  {
    url: 'postgres://app:spa ce-Pass-77@db.internal:5432/shop',
    password: 'spa ce-Pass-77',
    shown: 'postgres://app:****@db.internal:5432/shop',
  },
  {
    url: 'postgres://app:ha#sh?q-Pass-77@db.internal:5432/shop',
    password: 'ha#sh?q-Pass-77',
    shown: 'postgres://app:****@db.internal:5432/shop',
  },
  {
    url: 'app:no-scheme-Pass-77@db.internal:5432/shop',
    password: 'no-scheme-Pass-77',
    shown: 'app:****@db.internal:5432/shop',
  },
  {
    url: '127.0.0.1:5432/shop?password=no-scheme-qs-77',
    password: 'no-scheme-qs-77',
    shown: '127.0.0.1:5432/shop?password=****',
  },
  {
    url: 'db.internal/shop?sslmode=require&password=no-scheme-qs-78',
    password: 'no-scheme-qs-78',
    shown: 'db.internal/shop?sslmode=require&password=****',
  },
];

/** The password, and each piece of it between unusual characters: none may appear anywhere. */
function expectNoPassword(text: string, password: string): void {
  for (const piece of [password, ...password.split(/[/@ #?]/)].filter((p) => p.length >= 3)) {
    expect(text).not.toContain(piece);
  }
}

describe.each(URLS)('a database URL like $shown', ({ url, password, shown }) => {
  it('is redacted by config show and db url, from DATABASE_URL', async () => {
    const env = { DATABASE_URL: url };
    const runs = await Promise.all([
      opsctl(['config', 'show'], { cwd: app, env }),
      opsctl(['config', 'show', '--json'], { cwd: app, env }),
      opsctl(['db', 'url'], { cwd: app, env }),
      opsctl(['db', 'url', '--json'], { cwd: app, env }),
    ]);
    for (const res of runs) {
      expect(res.exitCode, res.stderr).toBe(0);
      expectNoPassword(res.stdout + res.stderr, password);
    }
    expect(JSON.parse(runs[1]!.stdout).database.url).toBe(shown);
    expect(runs[2]!.stdout).toBe(`${shown}\n`);
    expect(JSON.parse(runs[3]!.stdout).url).toBe(shown);
  });

  it('is redacted by config show and db url when written in the config file', async () => {
    const dir = mkdtempSync(join(app, 'cfg-'));
    writeFileSync(join(dir, 'opsctl.config.json'), JSON.stringify({ database: { url } }));
    const env = { DATABASE_URL: undefined };
    const [text, json, dbUrl] = await Promise.all([
      opsctl(['config', 'show'], { cwd: dir, env }),
      opsctl(['config', 'show', '--json'], { cwd: dir, env }),
      opsctl(['db', 'url'], { cwd: dir, env }),
    ]);
    for (const res of [text, json, dbUrl]) {
      expect(res.exitCode, res.stderr).toBe(0);
      expectNoPassword(res.stdout + res.stderr, password);
    }
    expect(JSON.parse(json.stdout).database.url).toBe(shown);
    expect(dbUrl.stdout).toBe(`${shown}\n`);
  });

  it('is printed whole by db url --show-password', async () => {
    const res = await opsctl(['db', 'url', '--show-password'], { cwd: app, env: { DATABASE_URL: url } });
    expect(res.stdout).toBe(`${url}\n`);
  });
});

describe('.env values', () => {
  it('are redacted as whole tokens; short or plain values leave ordinary words readable', async () => {
    const dir = mkdtempSync(join(app, 'env-'));
    writeFileSync(
      join(dir, 'opsctl.config.json'),
      JSON.stringify({
        packages: {
          backend: {
            path: '../backend',
            env: { NOTE: 'information about true-ish settings on port 30001', SESSION: 'x7Gh2kLp9q' },
          },
        },
      }),
    );
    writeFileSync(join(dir, '.env'), 'LOG_LEVEL=info\nFEATURE=true\nPORT=3000\nSESSION_SEED=x7Gh2kLp9q\n');
    const res = await opsctl(['config', 'show', '--json'], { cwd: dir, env: { PORT: undefined } });
    expect(res.exitCode, res.stderr).toBe(0);
    const env = JSON.parse(res.stdout).packages[0].env;
    expect(env).toEqual({ NOTE: 'information about true-ish settings on port 30001', SESSION: '****' });
  });
});

describe('.env values that are also words opsctl prints', () => {
  it("DB_USER=postgres leaves the id of doctor's postgres check readable", async () => {
    const dir = mkdtempSync(join(app, 'ids-'));
    writeFileSync(join(dir, '.env'), 'DB_USER=postgres\nDB_NAME=shop_db\n');
    const res = await opsctl(['doctor', '--only', 'postgres', '--json'], {
      cwd: dir,
      env: { DATABASE_URL: undefined },
    });
    expect(JSON.parse(res.stdout).checks.map((c: { id: string }) => c.id)).toEqual(['postgres']);
  });
});
