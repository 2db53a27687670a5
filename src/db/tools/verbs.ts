import { usageError } from '../../errors.js';
import { adapterFor } from './index.js';
import { readKnexSettings } from './knex.js';
import type { AppToolId, ToolChoice, ToolCommand, ToolStatus } from './types.js';

/** The everyday verbs beyond migrate/rollback (README, "Migration verbs with an app's tool"). */
export type ToolVerb = 'redo' | 'mark' | 'seed' | 'unlock';

/** How a tool does a verb: the commands to run in order (under opsctl's migration lock), from the state before. */
export interface VerbPlan {
  redo?(choice: ToolChoice, before: ToolStatus): ToolCommand[];
  mark?(choice: ToolChoice, name: string, as: 'applied' | 'pending'): ToolCommand;
  seed?(choice: ToolChoice, only?: string): ToolCommand;
  /** The tool's own lock (knex's `knex_migrations_lock`); opsctl's advisory lock is released by opsctl itself. */
  unlock?(choice: ToolChoice): ToolCommand;
}

/** Why a tool lacks a verb, and what to do instead: the usage error's hint. */
type Lacks = Partial<Record<ToolVerb, string>>;

/** The last applied migration by name (knex and node-pg-migrate revert the newest, as opsctl's rollback). */
function lastApplied(before: ToolStatus): string | undefined {
  return before.executed
    .map((e) => e.name)
    .sort()
    .at(-1);
}

/** The adapter's command for `action`, with other arguments (keeps the bin, the folder/table flags, the URL). */
function withArgs(choice: ToolChoice, args: (base: string[]) => string[], action: 'up' | 'down' = 'up'): ToolCommand {
  const base = adapterFor(choice.tool).command(choice, { kind: action, ...(action === 'down' ? { step: 1 } : {}) });
  return { ...base, args: args(base.args) };
}

const knexBase = (choice: ToolChoice) => ['--knexfile', readKnexSettings(choice.dir).knexfile!];
const knexCommand = (choice: ToolChoice, ...args: string[]) => withArgs(choice, () => [...knexBase(choice), ...args]);

const PLANS: Record<AppToolId, VerbPlan> = {
  knex: {
    // knex has no redo: migrate:down then migrate:up of that one, by name, under one hold of opsctl's lock
    redo: (choice, before) => {
      const last = lastApplied(before)!;
      return [knexCommand(choice, 'migrate:down', last), knexCommand(choice, 'migrate:up', last)];
    },
    seed: (choice, only) => knexCommand(choice, 'seed:run', ...(only ? ['--specific', only] : [])),
    unlock: (choice) => knexCommand(choice, 'migrate:unlock'),
  },
  'node-pg-migrate': {
    // its own redo: `redo 1` (down 1, then up of every pending migration: refused while others are pending)
    redo: (choice, before) => {
      if (before.pending.length)
        throw usageError(
          `node-pg-migrate's redo would also apply the pending ${before.pending.join(', ')}.`,
          'Run `opsctl migrate` first (or `opsctl rollback --step 1`, then `opsctl migrate`).',
        );
      return [withArgs(choice, (args) => ['redo', ...args.slice(1)], 'down')];
    },
    // up/down of one named migration with --fake records it without running it
    mark: (choice, name, as) =>
      withArgs(
        choice,
        (args) => [as === 'applied' ? 'up' : 'down', name, ...args.slice(as === 'applied' ? 1 : 2), '--fake'],
        as === 'applied' ? 'up' : 'down',
      ),
  },
  prisma: {
    mark: (choice, name, as) =>
      withArgs(choice, () => ['migrate', 'resolve', as === 'applied' ? '--applied' : '--rolled-back', name]),
    seed: (choice) => withArgs(choice, () => ['db', 'seed']),
  },
  'sequelize-cli': {
    seed: (choice, only) => withArgs(choice, () => (only ? ['db:seed', '--seed', only] : ['db:seed:all'])),
  },
  typeorm: {},
  'umzug-sequelize': {},
  scripts: {},
};

const LACKS: Record<AppToolId, Lacks> = {
  knex: {
    mark: 'knex has no command to record a migration without running it: insert its row into knex_migrations (name, batch, migration_time) yourself, or delete it.',
  },
  'node-pg-migrate': {
    seed: 'node-pg-migrate has no seeds: set database.seeds to run SQL/JS seed files with opsctl.',
    unlock: '',
  },
  prisma: {
    redo: 'Prisma has no down migrations: write a new migration that reverts the change.',
    unlock: '',
  },
  'sequelize-cli': {
    redo: 'sequelize-cli has no redo: `opsctl rollback` then `opsctl migrate` (two lock holds).',
    mark: 'sequelize-cli has no command to record a migration without running it: insert its file name into SequelizeMeta yourself, or delete it.',
  },
  typeorm: {
    redo: 'TypeORM has no redo: `opsctl rollback` (migration:revert) then `opsctl migrate` (migration:run).',
    mark: 'TypeORM can fake only every pending migration at once (migration:run --fake): run that with its CLI if that is what you mean.',
    seed: 'TypeORM has no seeds: set database.seeds to run SQL/JS seed files with opsctl.',
  },
  'umzug-sequelize': {
    redo: "umzug's CLI lives in the app's code: run its down and up there.",
    mark: "umzug's CLI lives in the app's code: record it through the app's storage (SequelizeMeta).",
    seed: 'umzug-sequelize has no seeds opsctl can run: set database.seeds to run SQL/JS seed files with opsctl.',
  },
  scripts: {
    redo: 'The app migrates with its own npm scripts: opsctl cannot redo through them.',
    mark: 'The app migrates with its own npm scripts: opsctl cannot read or write their state.',
    seed: 'The app migrates with its own npm scripts: set database.seeds to run SQL/JS seed files with opsctl.',
  },
};

/** The tool's way to do `verb`, or undefined when opsctl does it itself (`unlock` of a tool without a lock). */
export function toolVerbPlan(choice: ToolChoice, verb: ToolVerb): VerbPlan | undefined {
  const plan = PLANS[choice.tool];
  if (plan[verb]) return plan;
  if (verb === 'unlock') return undefined; // opsctl's advisory lock is all there is to release
  throw usageError(
    `${choice.tool} has no "${verb}" opsctl can run (${choice.pkg}).`,
    LACKS[choice.tool][verb] || `README, "Migration verbs with an app's tool", lists what each tool supports.`,
  );
}

/** Whether a tool has seeds of its own (else `db seed` runs opsctl's, when database.seeds is set). */
export function hasToolSeeds(choice: ToolChoice): boolean {
  return Boolean(PLANS[choice.tool].seed);
}
