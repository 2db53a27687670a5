import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prismaAdapter } from '../../src/db/tools/prisma.js';
import type { ToolChoice } from '../../src/db/tools/types.js';
import { isOpsError } from '../../src/errors.js';
import { createDatabase, makeApp, type TestDatabase, testServers, useServer } from './migrate-setup.js';
import { choiceFrom, expectOnlyPending, readStatus } from './tools-setup.js';

/**
 * Prisma's engines cannot be downloaded here, so `prisma migrate deploy` never runs in these tests: the test
 * creates `_prisma_migrations` in Prisma's shape (prisma-engines, the PostgreSQL connector's migrations table)
 * and writes the rows Prisma would write, including a failed one and a checksum that no longer matches.
 */
const PRISMA_TABLE = `CREATE TABLE "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

const INIT = '20250101120000_init';
const EMAIL = '20250102120000_add_email';
const BROKEN = '20250103120000_add_index';
const NEXT = '20250104120000_add_orders';
const SQL: Record<string, string> = {
  [INIT]: '-- CreateTable\nCREATE TABLE "User" ("id" SERIAL NOT NULL, CONSTRAINT "User_pkey" PRIMARY KEY ("id"));\n',
  [EMAIL]: '-- AlterTable\nALTER TABLE "User" ADD COLUMN "email" TEXT;\n',
  [BROKEN]: '-- CreateIndex\nCREATE UNIQUE INDEX "User_email_key" ON "User"("email");\n',
  [NEXT]: '-- CreateTable\nCREATE TABLE "Order" ("id" SERIAL NOT NULL);\n',
};
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe.each(testServers())('Prisma adapter, status from _prisma_migrations ($label)', (server) => {
  const serverUrl = useServer(server);
  let db: TestDatabase;
  let app: ReturnType<typeof makeApp>;
  let choice: ToolChoice;
  const manifest = { name: 'api', dependencies: { '@prisma/client': '^6.0.0' }, devDependencies: { prisma: '^6.0.0' } };
  const insert = (name: string, checksum: string, finished: boolean, rolledBack = false) =>
    db.query(
      `insert into _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
       values ($1, $2, case when $3 then now() end, $4, case when $3 then null else 'Database error: 42P07' end,
               case when $5 then now() end, now(), case when $3 then 1 else 0 end)`,
      [randomUUID(), checksum, finished, name, rolledBack],
    );

  beforeEach(async () => {
    db = await createDatabase(serverUrl());
    const files: Record<string, string> = {
      'package.json': JSON.stringify(manifest),
      'prisma/schema.prisma': 'datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}\n',
    };
    for (const [name, sql] of Object.entries(SQL)) files[`prisma/migrations/${name}/migration.sql`] = sql;
    files['prisma/migrations/migration_lock.toml'] = 'provider = "postgresql"\n';
    app = makeApp(files);
    choice = choiceFrom(prismaAdapter, app.root, manifest);
  });
  afterEach(async () => {
    await db.drop();
    app.remove();
  });

  it('detects Prisma from its packages, schema and migrations folder', () => {
    expect(choice.reasons).toEqual([
      'prisma in dependencies',
      '@prisma/client in dependencies',
      'prisma/schema.prisma',
      'prisma/migrations',
    ]);
    expect(choice.migrationsDir).toBe(join(app.root, 'prisma/migrations'));
    expect(choice.table).toBe('_prisma_migrations');
    expect(prismaAdapter.detect(app.root, { name: 'other' })?.reasons).toEqual([
      'prisma/schema.prisma',
      'prisma/migrations',
    ]);
  });

  it('an empty database: every migration folder pending, named as Prisma names them', async () => {
    await expectOnlyPending(prismaAdapter, choice, db.url, [INIT, EMAIL, BROKEN, NEXT]);
  });

  it('applied rows, a changed migration.sql (drift), a failed row, a rolled-back one and a row without a folder', async () => {
    await db.query(PRISMA_TABLE);
    await insert(INIT, sha256(SQL[INIT]!), true);
    await insert(EMAIL, sha256('-- AlterTable\nALTER TABLE "User" ADD COLUMN "mail" TEXT;\n'), true); // edited since
    await insert(BROKEN, sha256(SQL[BROKEN]!), false, true); // failed once, resolved as rolled back...
    await insert(BROKEN, sha256(SQL[BROKEN]!), false); // ...then failed again: Prisma's failed state
    await insert('20241231120000_gone', sha256('select 1'), true);
    const status = await readStatus(prismaAdapter, choice, db.url);
    expect(status.executed.map((e) => e.name)).toEqual(['20241231120000_gone', INIT, EMAIL]);
    expect(Date.parse(status.executed[0]!.appliedAt)).not.toBeNaN();
    expect(status.drifted).toEqual([EMAIL]);
    expect(status.missing).toEqual(['20241231120000_gone']);
    expect(status.failed).toEqual([BROKEN]);
    expect(status.pending).toEqual([BROKEN, NEXT]);
    expect(status.warnings?.[0]).toContain(`Prisma recorded ${BROKEN} as failed`);
  });

  it('a migration applied again after a rolled-back attempt counts as applied, not failed', async () => {
    await db.query(PRISMA_TABLE);
    await insert(INIT, sha256(SQL[INIT]!), false, true);
    await insert(INIT, sha256(SQL[INIT]!), true);
    const status = await readStatus(prismaAdapter, choice, db.url);
    expect(status.executed.map((e) => e.name)).toEqual([INIT]);
    expect(status.failed).toBeUndefined();
    expect(status.pending).toEqual([EMAIL, BROKEN, NEXT]);
  });

  it('a checksum taken on Windows line endings still matches (as Prisma accepts it)', async () => {
    await db.query(PRISMA_TABLE);
    await insert(INIT, sha256(SQL[INIT]!.replaceAll('\n', '\r\n')), true);
    expect((await readStatus(prismaAdapter, choice, db.url)).drifted).toEqual([]);
  });

  it("create(): a migration folder in Prisma's naming, pending", async () => {
    const created = prismaAdapter.create!(choice, 'add_payments');
    expect(created.name).toMatch(/^\d{14}_add_payments$/);
    expect(created.path).toBe(join(app.root, 'prisma/migrations', created.name, 'migration.sql'));
    expect((await readStatus(prismaAdapter, choice, db.url)).pending).toEqual([
      INIT,
      EMAIL,
      BROKEN,
      NEXT,
      created.name,
    ]);
  });

  it('command(): rollback and --to/--step are usage errors (exit 2); up is `prisma migrate deploy`', () => {
    const fail = (action: Parameters<typeof prismaAdapter.command>[1]) => {
      try {
        prismaAdapter.command(choice, action);
      } catch (err) {
        return err;
      }
      return undefined;
    };
    const down = fail({ kind: 'down' });
    expect(isOpsError(down) && down.exitCode).toBe(2);
    expect((down as Error).message).toBe('Prisma has no rollback: `prisma migrate` only applies migrations.');
    const step = fail({ kind: 'up', step: 1 });
    expect(isOpsError(step) && step.exitCode).toBe(2);
    expect((step as Error).message).toContain('not supported for Prisma');
    // not installed in this app: said so, not run
    expect((fail({ kind: 'up' }) as Error).message).toContain('prisma is not installed');
    app.write('node_modules/.bin/prisma', '#!/bin/sh\n');
    expect(prismaAdapter.command(choice, { kind: 'up' })).toEqual({
      file: join(app.root, 'node_modules/.bin/prisma'),
      args: ['migrate', 'deploy'],
    });
  });
});
