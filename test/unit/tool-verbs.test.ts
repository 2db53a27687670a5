import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppToolId, ToolChoice } from '../../src/db/tools/types.js';
import { toolVerbPlan } from '../../src/db/tools/verbs.js';
import { isOpsError } from '../../src/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'opsctl-verbs-'));
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  for (const bin of ['prisma', 'sequelize-cli']) writeFileSync(join(dir, 'node_modules', '.bin', bin), '');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const choice = (tool: AppToolId, table = ''): ToolChoice => ({ tool, pkg: 'backend', dir, reasons: [], table });

describe('toolVerbPlan', () => {
  it('Prisma marks with migrate resolve --applied / --rolled-back, and seeds with db seed', () => {
    const plan = toolVerbPlan(choice('prisma', '_prisma_migrations'), 'mark')!;
    expect(plan.mark!(choice('prisma'), '20250101120000_init', 'applied').args).toEqual([
      'migrate',
      'resolve',
      '--applied',
      '20250101120000_init',
    ]);
    expect(plan.mark!(choice('prisma'), '20250101120000_init', 'pending').args).toEqual([
      'migrate',
      'resolve',
      '--rolled-back',
      '20250101120000_init',
    ]);
    expect(plan.seed!(choice('prisma')).args).toEqual(['db', 'seed']);
  });

  it('sequelize-cli seeds with db:seed:all, or db:seed --seed <name>', () => {
    const plan = toolVerbPlan(choice('sequelize-cli', 'SequelizeMeta'), 'seed')!;
    expect(plan.seed!(choice('sequelize-cli'), undefined).args).toEqual(['db:seed:all']);
    expect(plan.seed!(choice('sequelize-cli'), '20250101-demo.js').args).toEqual([
      'db:seed',
      '--seed',
      '20250101-demo.js',
    ]);
  });

  it("a verb the tool lacks is exit 2 saying what to do; unlock of a tool without a lock is opsctl's alone", () => {
    for (const [tool, verb, hint] of [
      ['prisma', 'redo', 'no down migrations'],
      ['typeorm', 'mark', 'migration:run --fake'],
      ['knex', 'mark', 'knex_migrations'],
      ['scripts', 'seed', 'database.seeds'],
    ] as const) {
      try {
        toolVerbPlan(choice(tool), verb);
        expect.unreachable(`${tool} ${verb}`);
      } catch (err) {
        expect(isOpsError(err) && err.exitCode).toBe(2);
        expect((err as { hint?: string }).hint).toContain(hint);
      }
    }
    expect(toolVerbPlan(choice('prisma'), 'unlock')).toBeUndefined();
    expect(toolVerbPlan(choice('knex'), 'unlock')?.unlock).toBeTypeOf('function');
  });
});
