import { ExitCode, OpsError, usageError } from '../../errors.js';
import type { MigrationSource } from './sources.js';
import type { AppliedRow } from './state.js';

/** What `migrate status` reports (README, "JSON shapes"). */
export interface MigrationStatus {
  /** Every applied migration, in file-name order, including drifted and missing ones. */
  executed: Array<{ name: string; appliedAt: string }>;
  pending: string[];
  /** Applied, but the file changed since. */
  drifted: string[];
  /** Applied, but the file is gone. */
  missing: string[];
}

/**
 * Compare the folder with the state table. Pure: no I/O. Not umzug's `executed()`: it lists only applied
 * migrations whose file still exists (it filters its migration list by the storage's names), so a missing file
 * would vanish instead of being reported, and it knows no checksums or times. Pending is the same set
 * difference umzug's `pending()` makes, done here in the same pass, so `migrate status` needs no umzug.
 */
export function compareState(sources: MigrationSource[], rows: AppliedRow[]): MigrationStatus {
  const byName = new Map(sources.map((s) => [s.name, s]));
  const applied = new Set(rows.map((r) => r.name));
  return {
    executed: rows.map((r) => ({ name: r.name, appliedAt: r.appliedAt.toISOString() })),
    pending: sources.filter((s) => !applied.has(s.name)).map((s) => s.name),
    drifted: rows.filter((r) => byName.has(r.name) && !matchesChecksum(byName.get(r.name)!, r)).map((r) => r.name),
    missing: rows.filter((r) => !byName.has(r.name)).map((r) => r.name),
  };
}

/** The stored checksum is the file's, in the current format or the one an older opsctl wrote. */
export function matchesChecksum(source: MigrationSource, row: AppliedRow): boolean {
  return row.checksum === source.checksum || row.checksum === source.legacyChecksum;
}

/** True when status shows something an operator must act on (`--exit-code`, doctor). */
export function hasFindings(status: MigrationStatus): boolean {
  return status.pending.length + status.drifted.length + status.missing.length > 0;
}

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
 * including `to` (umzug's meaning), or all. An applied migration whose file is gone cannot be reverted; checked
 * here because umzug's `down()` sees only migrations that have a file and would quietly revert an older one.
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
        exitCode: ExitCode.failed,
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
    exitCode: ExitCode.findings,
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
