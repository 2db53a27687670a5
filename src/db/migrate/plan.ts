import { OpsError, usageError } from '../../errors.js';
import type { MigrationSource } from './sources.js';
import type { MigrationStatus } from './state.js';

/** `migrate up` options: at most one of `to` / `step`. */
export interface UpOptions {
  to?: string;
  step?: number;
}

/** `rollback` options: default the last one; at most one of `to` / `step` / `all`. */
export interface DownOptions {
  to?: string;
  step?: number;
  all?: boolean;
}

function verifyOneOf(options: Record<string, unknown>, flags: string[]): void {
  const given = flags.filter((f) => options[f] !== undefined && options[f] !== false);
  if (given.length > 1)
    throw usageError(
      `--${given.join(' and --')} cannot be combined.`,
      `Use one of ${flags.map((f) => `--${f}`).join(', ')}.`,
    );
}

/** The pending migrations to apply, in order: all, up to and including `to`, or the next `step`. */
export function planUp(sources: MigrationSource[], status: MigrationStatus, options: UpOptions): MigrationSource[] {
  verifyUpOptions(options);
  const pendingSet = new Set(status.pending);
  const pending = sources.filter((s) => pendingSet.has(s.name));
  if (options.to !== undefined) {
    const index = pending.findIndex((s) => s.name === options.to);
    if (index >= 0) return pending.slice(0, index + 1);
    if (status.executed.some((e) => e.name === options.to)) return [];
    throw usageError(`--to ${options.to}: no such migration.`, hintNames('Pending', status.pending));
  }
  return options.step !== undefined ? pending.slice(0, options.step) : pending;
}

/**
 * The applied migrations to revert, newest (by name) first: the last one, the last `step`, everything back to and
 * including `to` (umzug's meaning), or all. An applied migration whose file is gone cannot be reverted.
 */
export function planDown(sources: MigrationSource[], status: MigrationStatus, options: DownOptions): MigrationSource[] {
  verifyDownOptions(options);
  const applied = [...status.executed]
    .map((e) => e.name)
    .sort()
    .reverse();
  let names: string[];
  if (options.all) names = applied;
  else if (options.to !== undefined) {
    const index = applied.indexOf(options.to);
    if (index < 0) {
      const known = sources.some((s) => s.name === options.to);
      throw usageError(
        `--to ${options.to}: ${known ? 'that migration is not applied' : 'no such migration'}.`,
        hintNames('Applied', applied),
      );
    }
    names = applied.slice(0, index + 1);
  } else names = applied.slice(0, options.step ?? 1);
  const byName = new Map(sources.map((s) => [s.name, s]));
  const gone = names.filter((n) => !byName.has(n));
  if (gone.length) {
    throw new OpsError(
      'MIGRATION_MISSING',
      `Cannot roll back ${gone.join(', ')}: applied, but the file is gone from the migrations folder.`,
      {
        hint: 'Restore the file (from version control) to roll it back. Nothing was reverted.',
        exitCode: 3,
      },
    );
  }
  return names.map((n) => byName.get(n)!);
}

/** `migrate up` refuses to run over drifted or missing migrations unless allowed (exit 1). */
export function verifyNoDrift(status: MigrationStatus, allowDrift: boolean): void {
  if (allowDrift || (!status.drifted.length && !status.missing.length)) return;
  const parts = [
    status.drifted.length ? `changed since they were applied: ${status.drifted.join(', ')}` : '',
    status.missing.length ? `applied but missing from the folder: ${status.missing.join(', ')}` : '',
  ].filter(Boolean);
  throw new OpsError('MIGRATION_DRIFT', `Refusing to migrate: migrations ${parts.join('; ')}.`, {
    hint: 'Restore the applied files as they were (applied migrations are history: add a new migration for changes), or pass --allow-drift.',
    exitCode: 1,
  });
}

/** Check `migrate up` flags before connecting to anything (usage errors, exit 2). */
export function verifyUpOptions(options: UpOptions): void {
  verifyOneOf(options as Record<string, unknown>, ['to', 'step']);
}

/** Check `rollback` flags before connecting to anything (usage errors, exit 2). */
export function verifyDownOptions(options: DownOptions): void {
  verifyOneOf(options as Record<string, unknown>, ['to', 'step', 'all']);
}

function hintNames(label: string, names: string[]): string {
  if (!names.length) return `${label}: none. \`opsctl migrate status\` lists every migration.`;
  const shown = names.slice(0, 10).join(', ');
  return `${label}: ${shown}${names.length > 10 ? `, … (${names.length} in all)` : ''}.`;
}
