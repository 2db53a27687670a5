import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import { ExitCode, errorMessage, OpsError } from '../../errors.js';
import { withModuleOutputOnStderr } from '../migrate/module-output.js';
import { runSqlSection, withoutTransactionControl } from '../migrate/run-sql.js';
import { describeSqlError, findTransactionControl, type SqlPart } from '../migrate/sql.js';
import type { SeedSource } from './sources.js';

/** A seed function: `seed({ context: { client } })` (the shape of a migration's `up`). */
type SeedFn = (params: { name: string; context: { client: pg.Client } }) => Promise<unknown>;

/** A seed ready to run: SQL as read, or a module's function, loaded and checked before the first seed runs. */
interface PreparedSeed {
  source: SeedSource;
  sql?: SqlPart;
  fn?: SeedFn;
}

export interface SeedProgress {
  started?(name: string): void;
  finished?(name: string, durationMs: number): void;
}

const SEED_TRANSACTION = 'opsctl runs this seed in (it commits the seed as a whole): remove it';

/**
 * Load and check every seed (a module that fails to import or exports no seed function, SQL that would end its
 * own transaction: exit 3, nothing run), then run each in its own transaction, in order. A failure rolls that seed
 * back and stops: the seeds before it stay committed, and the error says which (README, "`opsctl db seed`").
 * Under `dryRun` each transaction is rolled back instead. Returns the names run.
 */
export async function runSeeds(
  client: pg.Client,
  sources: SeedSource[],
  options: { dryRun: boolean; progress?: SeedProgress },
): Promise<string[]> {
  const prepared: PreparedSeed[] = [];
  for (const source of sources) prepared.push(await prepareSeed(source));
  const done: string[] = [];
  const end = options.dryRun ? 'rollback' : 'commit';
  for (const seed of prepared) {
    const started = performance.now();
    options.progress?.started?.(seed.source.name);
    try {
      if (seed.sql) await runSqlSection(client, seed.sql, true, { begin: true, after: end });
      else {
        await client.query('begin');
        await withModuleOutputOnStderr(() =>
          seed.fn!({
            name: seed.source.name,
            context: { client: withoutTransactionControl(client, SEED_TRANSACTION) },
          }),
        );
        await client.query(end);
      }
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw seedFailure(seed, err, done, options.dryRun);
    }
    done.push(seed.source.name);
    options.progress?.finished?.(seed.source.name, performance.now() - started);
  }
  return done;
}

async function prepareSeed(source: SeedSource): Promise<PreparedSeed> {
  if (source.kind === 'sql') {
    const sql = readFileSync(source.path, 'utf8').replace(/\r\n/g, '\n');
    const control = findTransactionControl(sql);
    if (control)
      throw new OpsError(
        'SEED_INVALID',
        `${source.file}:${control.line}: ${control.sql} inside a seed: opsctl runs each seed in its own transaction.`,
        { hint: 'Remove it (the seed commits as a whole). Nothing was run.', exitCode: ExitCode.failed },
      );
    return { source, sql: { sql, line: 1 } };
  }
  let mod: { seed?: unknown; default?: unknown };
  try {
    mod = await withModuleOutputOnStderr(async () =>
      /\.[mc]?ts$/.test(source.path)
        ? ((await (await import('tsx/esm/api')).tsImport(pathToFileURL(source.path).href, import.meta.url)) as {
            seed?: unknown;
          })
        : ((await import(pathToFileURL(source.path).href)) as { seed?: unknown }),
    );
  } catch (err) {
    throw new OpsError('SEED_LOAD', `${source.file} could not be loaded: ${errorMessage(err)}`, {
      hint: 'Fix the module so it can be imported (run it with `node` to see the full error). Nothing was run.',
      exitCode: ExitCode.failed,
      cause: err,
    });
  }
  const fn = findSeedFunction(mod);
  if (!fn)
    throw new OpsError('SEED_INVALID', `${source.file} exports no seed function.`, {
      hint: 'Export `async function seed({ context: { client } })` (or a default function). Nothing was run.',
      exitCode: ExitCode.failed,
    });
  return { source, fn };
}

/**
 * `seed`, else the default export; CommonJS (and TypeScript compiled as CommonJS by tsx) arrives wrapped in
 * `default`, once or twice.
 */
function findSeedFunction(mod: unknown, depth = 0): SeedFn | undefined {
  if (typeof mod === 'function') return mod as SeedFn;
  const m = mod as { seed?: unknown; default?: unknown } | undefined;
  if (typeof m?.seed === 'function') return m.seed as SeedFn;
  return depth < 2 && m?.default !== undefined ? findSeedFunction(m.default, depth + 1) : undefined;
}

function seedFailure(seed: PreparedSeed, err: unknown, done: string[], dryRun: boolean): OpsError {
  const what = seed.sql
    ? describeSqlError(err, seed.source.path, (err as { opsctlPart?: SqlPart }).opsctlPart ?? seed.sql)
    : `${seed.source.file}: ${errorMessage(err)}`;
  const before = dryRun
    ? 'Dry run: nothing was committed.'
    : done.length
      ? `The seeds before it stay committed: ${done.join(', ')}.`
      : 'No seed was committed.';
  return new OpsError('SEED_FAILED', `Seed ${seed.source.name} failed: ${what}`, {
    hint: `It was rolled back. ${before} Fix it and run again (\`--only ${seed.source.name}\` runs it alone).`,
    exitCode: ExitCode.failed,
    cause: err,
  });
}
