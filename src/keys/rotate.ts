import type { ListrTask } from 'listr2';
import type pg from 'pg';
import { OpsError } from '../errors.js';
import { readSample } from './batch-sql.js';
import { type ColumnTarget, verifyFits } from './catalog.js';
import type { Codec } from './codec.js';
import { type ColumnResult, rotateColumn } from './rotate-column.js';
import { ensureStateTable, recordRotation, startRotationRow } from './state.js';

/** How many values of each column must decrypt before anything changes. */
export const SAMPLE_SIZE = 25;
const PROBE = 'opsctl keys rotate: probe';
const RECORD_EVERY_MS = 1_000;

/** Everything a rotation run needs; `results` fills in as columns finish. */
export interface RotationRun {
  client: pg.Client;
  /** Schema of the state table (database.schema). */
  schema: string;
  targets: ColumnTarget[];
  from: Codec;
  to: Codec;
  /** Fingerprints of the keys and the modules (as configured), for the state table. */
  fromKey: string;
  toKey: string;
  fromModule: string;
  toModule: string;
  keyEnv: string;
  batchSize: number;
  dryRun: boolean;
  signal?: AbortSignal;
  results: ColumnResult[];
  /** Columns whose unfinished run was resumed. */
  resumed: string[];
}

/**
 * Before anything changes: the new side must encrypt and decrypt back, and a sample of every column must decrypt
 * with the current key (or already with the new one: a resumed run). Otherwise exit 3, nothing written.
 */
export async function verifySamples(run: RotationRun): Promise<void> {
  const [probe] = await run.to.seal([PROBE]);
  if (probe == null) {
    throw new OpsError(
      'KEYS_NEW_KEY',
      'The new key does not work with the module: encrypting then decrypting a probe failed.',
      {
        hint: 'Check the new key (the module says what form it expects: 32 bytes as hex or base64 for the example) and --to-module.',
      },
    );
  }
  for (const target of run.targets) {
    const values = await readSample(run.client, target, SAMPLE_SIZE);
    const plains = await run.from.decrypt(values);
    const notOld = values.filter((_, i) => plains[i] == null);
    verifyFits(target, await run.to.seal(plains.filter((p) => p != null)), ' Nothing was changed.');
    const asNew = await run.to.decrypt(notOld);
    const neither = asNew.filter((p) => p == null).length;
    if (neither) {
      throw new OpsError(
        'KEYS_WRONG_KEY',
        `Wrong key: ${neither} of ${values.length} sampled values of ${target.name} do not decrypt with the current key (${run.keyEnv}) nor the new one. Nothing was changed.`,
        { hint: `Check that ${run.keyEnv} holds the key the data was encrypted with, and encryption.module.` },
      );
    }
  }
}

/**
 * Mark the column's run finished with a synchronous commit. The batches commit asynchronously (the session sets
 * synchronous_commit off: no wait for the disk per batch); this commit waits until the WAL is on disk up to here,
 * which holds every batch before it, so "finished" and every value it verified are durable when the run says so. A
 * server crash before it loses at most the last batches, whose rows are still under the old key: the run was not
 * finished, and running it again rotates them.
 */
async function finishRotation(run: RotationRun, id: number, result: ColumnResult): Promise<void> {
  await run.client.query("select set_config('synchronous_commit', 'on', false)");
  await recordRotation(run.client, run.schema, id, result, true);
  await run.client.query("select set_config('synchronous_commit', 'off', false)");
}

/** One task per column: the state row, the passes, the row marked finished. Progress as the task's output. */
export function rotationTasks(run: RotationRun): ListrTask[] {
  return run.targets.map((target) => ({
    title: target.name,
    task: async (_ctx, task) => {
      if (run.signal?.aborted) throw run.signal.reason; // stopped after the previous column: not a row more
      let id: number | undefined;
      let recorded = Number.NEGATIVE_INFINITY;
      if (!run.dryRun) {
        await ensureStateTable(run.client, run.schema);
        const row = await startRotationRow(run.client, run.schema, {
          column: target.name,
          fromKey: run.fromKey,
          toKey: run.toKey,
          fromModule: run.fromModule,
          toModule: run.toModule,
        });
        id = row.id;
        if (row.resumed) run.resumed.push(target.name);
      }
      const result = await rotateColumn({
        client: run.client,
        target,
        from: run.from,
        to: run.to,
        batchSize: run.batchSize,
        dryRun: run.dryRun,
        signal: run.signal,
        onProgress: ({ pass, done, total }) => {
          task.output = `${pass === 1 ? 'pass 1' : `pass ${pass} (verify)`}: ${done}/${total}`;
        },
        onCounts: async (counts) => {
          // progress for `keys status` and people: the first write, then at most once a second (resuming needs none)
          if (id === undefined || performance.now() - recorded < RECORD_EVERY_MS) return;
          recorded = performance.now();
          await recordRotation(run.client, run.schema, id, counts);
        },
      });
      if (id !== undefined) await finishRotation(run, id, result);
      run.results.push(result);
      task.title = `${target.name}: ${result.rotated} rotated, ${result.skipped} already under the new key${run.dryRun ? ' (dry run)' : ''}`;
    },
  }));
}
