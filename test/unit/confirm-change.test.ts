import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { confirmChange } from '../../commands/shared/confirm-change.js';
import type { Cli } from '../../commands/shared/context.js';
import type { ResolvedConfig } from '../../src/config/types.js';
import { describeDatabase, describeTarget } from '../../src/db/target-label.js';

function fakeCli(opts: { yes?: boolean; env?: string }, envName?: string): Cli {
  const config = { envName, database: { url: 'postgres://app:s3cret@db.internal:5432/shop', source: 'env' } };
  return { opts, json: true, config: () => config as unknown as ResolvedConfig } as unknown as Cli;
}

const change = {
  question: 'Roll back 0003_x on app@db.internal:5432/shop (production)',
  destructive: true,
  unchanged: 'nothing was reverted',
};

async function answer(cli: Cli, typed: string): Promise<{ error?: unknown; prompt: string }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let prompt = '';
  output.on('data', (d) => {
    prompt += String(d);
  });
  const done = confirmChange(cli, change, { input, output });
  input.write(typed);
  return done.then(
    () => ({ prompt }),
    (error) => ({ error, prompt }),
  );
}

describe('describeTarget', () => {
  it('names user@host:port/database and the environment, never the password', () => {
    const config = {
      envName: 'production',
      database: { url: 'postgres://app:s3cret@db.internal:5432/shop', source: 'env' as const },
    };
    expect(describeTarget(config as ResolvedConfig)).toBe('app@db.internal:5432/shop (production)');
    expect(describeDatabase('postgres://app:p%40ss@[::1]/shop')).toBe('app@[::1]:5432/shop');
    expect(describeDatabase('not a url')).toBe('the database (its URL cannot be read)');
    expect(describeDatabase(undefined)).toBe('no database (none configured)');
  });
  it('says when the database is the embedded one', () => {
    const config = { database: { url: 'postgres://postgres@127.0.0.1:54329/app', source: 'embedded' as const } };
    expect(describeTarget(config as ResolvedConfig)).toBe('postgres@127.0.0.1:54329/app (embedded)');
  });
});

describe('confirmChange', () => {
  it('outside production, y confirms and n cancels with exit 130', async () => {
    expect(await answer(fakeCli({}, 'staging'), 'y\n')).toEqual({ prompt: `${change.question}? (y/N) ` });
    const no = await answer(fakeCli({}), 'n\n');
    expect(no.error).toMatchObject({ code: 'CANCELLED', exitCode: 130, message: 'Cancelled; nothing was reverted.' });
  });
  it('under production, y is not enough: the environment name must be typed', async () => {
    const y = await answer(fakeCli({ env: 'production' }, 'production'), 'y\n');
    expect(y.prompt).toContain("Type the environment's name (production) to go on: ");
    expect(y.error).toMatchObject({
      code: 'CANCELLED',
      message: 'Cancelled ("y" is not "production"); nothing was reverted.',
    });
    expect((await answer(fakeCli({ env: 'production' }, 'production'), 'production\n')).error).toBeUndefined();
  });
  it('--yes counts under production only with --env production on the command line', async () => {
    await expect(
      confirmChange(fakeCli({ yes: true, env: 'production' }, 'production'), change),
    ).resolves.toBeUndefined();
    // from OPSCTL_ENV (opts.env unset) it asks instead; with no terminal (vitest's stdin) that is exit 2 naming the flags
    await expect(confirmChange(fakeCli({ yes: true }, 'production'), change)).rejects.toMatchObject({
      exitCode: 2,
      hint: expect.stringContaining('--yes --env production'),
    });
  });
  it('a change that is not destructive takes --yes under production from OPSCTL_ENV too', async () => {
    const cli = fakeCli({ yes: true }, 'production');
    await expect(confirmChange(cli, { ...change, destructive: false })).resolves.toBeUndefined();
  });
});

describe('describeDatabase names the database pg will connect to', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of ['PGUSER', 'PGPORT', 'PGDATABASE', 'USER']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  it('a URL without user, port or database: libpq/pg take PGUSER, PGPORT, PGDATABASE, and so does the label', () => {
    process.env.PGUSER = 'shop_owner';
    process.env.PGPORT = '6432';
    process.env.PGDATABASE = 'shop_prod';
    process.env.USER = 'ops';
    expect(describeDatabase('postgres://db.internal')).toBe('shop_owner@db.internal:6432/shop_prod');
    // what the URL says wins over the environment, as in pg
    expect(describeDatabase('postgres://app@db.internal:5433/shop')).toBe('app@db.internal:5433/shop');
    delete process.env.PGUSER;
    delete process.env.PGDATABASE;
    expect(describeDatabase('postgres://db.internal:5432')).toBe('ops@db.internal:5432/ops');
  });
});

describe('describeDatabase reads the URL as pg does', () => {
  it('?user= and ?port= win over the URL’s own (pg-connection-string copies the query over them)', () => {
    expect(describeDatabase('postgres://app@db.internal:5432/shop?user=admin&port=6432')).toBe(
      'admin@db.internal:6432/shop',
    );
  });
});
