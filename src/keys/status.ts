import type pg from 'pg';
import { countRows, readBatch, readSample } from './batch-sql.js';
import type { ColumnTarget } from './catalog.js';
import type { Codec } from './codec.js';
import { keyFingerprint } from './fingerprint.js';
import { readLastRotations } from './state.js';

const DAY_MS = 86_400_000;
const ALL_BATCH = 1_000;

/** `keys status` per column (README, "JSON shapes"). */
export interface ColumnStatus {
  column: string;
  rows: number;
  /** Rows holding a value (not NULL). */
  values: number;
  /** Values tried: a bounded sample, or every value with `--all`. */
  checked: number;
  /** Of those, how many decrypt with the configured key. */
  decrypt: number;
  /** `fingerprint`: the new key's of that rotation; `current`: it is the configured key's (JSON fields avoid "key" in their names: those are masked). */
  lastRotation: { finishedAt: string; ageDays: number; fingerprint: string; current: boolean } | null;
  /** A rotation that started and did not finish (interrupted: run it again to resume). */
  unfinished: { startedAt: string; rotated: number } | null;
}

export interface StatusOptions {
  client: pg.Client;
  schema: string;
  targets: ColumnTarget[];
  codec: Codec;
  /** The configured key, for comparing its fingerprint with the last rotation's. */
  key: string;
  /** Values to try per column; ignored with `all`. */
  sample: number;
  all?: boolean;
  now?: Date;
}

/**
 * What an unfinished rotation means for the app: values under two keys (whatever a sample says: the rows rotated
 * first may be nowhere near it). Undefined when the column has none.
 */
export function describeUnfinished(status: ColumnStatus): string | undefined {
  const open = status.unfinished;
  if (!open) return undefined;
  return `${status.column}: a keys rotate started ${open.startedAt} has not finished (running, or interrupted after ${open.rotated} values): its values are under two keys`;
}

/** Rows, how many values decrypt with the configured key, and the last rotation of each column. */
export async function readKeyStatus(options: StatusOptions): Promise<ColumnStatus[]> {
  const { client, codec } = options;
  const now = options.now ?? new Date();
  const history = await readLastRotations(client, options.schema);
  const current = keyFingerprint(options.key);
  const statuses: ColumnStatus[] = [];
  for (const target of options.targets) {
    const counts = await countRows(client, target);
    let checked = 0;
    let decrypt = 0;
    const tally = async (values: string[]) => {
      const plains = await codec.decrypt(values);
      checked += values.length;
      decrypt += plains.filter((p) => p != null).length;
    };
    if (options.all) {
      let after: string[] | undefined;
      for (;;) {
        const batch = await readBatch(client, target, after, ALL_BATCH);
        if (!batch.length) break;
        after = batch[batch.length - 1]!.key;
        await tally(batch.map((r) => r.value));
      }
    } else {
      await tally(await readSample(client, target, options.sample));
    }
    const last = history.finished.get(target.name);
    const open = history.unfinished.get(target.name);
    statuses.push({
      column: target.name,
      rows: counts.rows,
      values: counts.stored,
      checked,
      decrypt,
      lastRotation: last?.finishedAt
        ? {
            finishedAt: last.finishedAt.toISOString(),
            ageDays: Math.floor((now.getTime() - last.finishedAt.getTime()) / DAY_MS),
            fingerprint: last.toKey,
            current: last.toKey === current,
          }
        : null,
      unfinished:
        open && (!last?.finishedAt || open.startedAt > last.finishedAt)
          ? { startedAt: open.startedAt.toISOString(), rotated: open.rotated }
          : null,
    });
  }
  return statuses;
}
