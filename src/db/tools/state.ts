import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import type { MigrationStatus } from '../migrate/plan.js';

/** Helpers every adapter shares: the state table's name, whether it exists, and status from names. */

/** `schema.table` or `table` as SQL, each part quoted (`SequelizeMeta` keeps its case). */
export function quoteTable(table: string): string {
  const dot = table.indexOf('.');
  const parts = dot > 0 ? [table.slice(0, dot), table.slice(dot + 1)] : [table];
  return parts.map((p) => `"${p.replace(/"/g, '""')}"`).join('.');
}

/** Does the table exist (unqualified: on the search path)? Never creates it. */
export async function tableExists(client: pg.Client, table: string): Promise<boolean> {
  const { rows } = await client.query<{ oid: string | null }>('select to_regclass($1)::text as oid', [
    quoteTable(table),
  ]);
  return rows[0]?.oid != null;
}

/** One row of a tool's state table, in the tool's naming. */
export interface StateRow {
  name: string;
  appliedAt?: Date | string | null;
  /** Only where the tool records one (Prisma); compared with `checksums` of the files. */
  checksum?: string | null;
}

/**
 * executed = the rows, pending = files not in them, missing = rows without a file, drifted = rows whose recorded
 * checksum differs from the file's (only when both are known). `appliedAt` is empty when the tool records no time.
 */
export function statusFromNames(
  files: string[],
  rows: StateRow[],
  checksums: Map<string, string> = new Map(),
): MigrationStatus {
  const fileSet = new Set(files);
  const applied = new Set(rows.map((r) => r.name));
  const sorted = [...rows].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    executed: sorted.map((r) => ({ name: r.name, appliedAt: toIso(r.appliedAt) })),
    pending: files.filter((f) => !applied.has(f)),
    drifted: sorted
      .filter((r) => fileSet.has(r.name) && r.checksum && checksums.has(r.name) && checksums.get(r.name) !== r.checksum)
      .map((r) => r.name),
    missing: sorted.filter((r) => !fileSet.has(r.name)).map((r) => r.name),
  };
}

function toIso(value: StateRow['appliedAt']): string {
  if (!value) return '';
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

const MODULE_FILE = /\.(c|m)?(js|ts)$/;

/** Migration module files of a folder (not `.d.ts`, not hidden), sorted by name as sequelize-cli and umzug do. */
export function moduleFiles(dir: string | undefined): string[] {
  if (!dir || !existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && MODULE_FILE.test(e.name) && !/\.d\.[mc]?ts$/.test(e.name) && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/** The package's dependencies and devDependencies. */
export function dependsOn(manifest: Record<string, unknown>, name: string): boolean {
  const deps = { ...(manifest.dependencies as object), ...(manifest.devDependencies as object) };
  return Object.hasOwn(deps, name);
}

/** The package's npm scripts. */
export function scriptsOf(manifest: Record<string, unknown>): Record<string, string> {
  const scripts = manifest.scripts;
  return scripts && typeof scripts === 'object' ? (scripts as Record<string, string>) : {};
}

/** package.json of a folder ({} when unreadable: detection then finds nothing). */
export function readManifest(dir: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The first of `candidates` (relative to `dir`) that is a folder, absolute. */
export function firstFolder(dir: string, candidates: string[]): string | undefined {
  return candidates.map((c) => join(dir, c)).find((p) => existsSync(p));
}

/** A bin of the package's node_modules, looking upward (workspaces hoist bins) but not above `root`. */
export function findBin(dir: string, root: string, name: string): string | undefined {
  let d = dir;
  for (;;) {
    const bin = join(d, 'node_modules', '.bin', name);
    if (existsSync(bin)) return bin;
    const up = join(d, '..');
    if (d === root || up === d || !up.startsWith(root)) return undefined;
    d = up;
  }
}
