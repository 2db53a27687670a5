import type pg from 'pg';
import { OpsError } from '../errors.js';
import { type BatchRow, countRows, explainWriteError, keyOf, readBatch, writeBatch } from './batch-sql.js';
import { type ColumnTarget, verifyFits } from './catalog.js';
import type { Codec, Plain } from './codec.js';
import { runHasher } from './fingerprint.js';

/** What `keys rotate` reports per column (README, "JSON shapes"). */
export interface ColumnResult {
  column: string;
  /** Rows of the table (NULLs included: they are left alone). */
  rows: number;
  /** Values re-encrypted by this run (each verified by reading it back and decrypting it with the new key). */
  rotated: number;
  /** Values already under the new key (an earlier, interrupted run, or the app) left as they were. */
  skipped: number;
  /** Values the app rewrote between the read and the write of a batch, picked up by a later pass. */
  rewritten: number;
  /** Full passes over the table: the last one re-read every value and found nothing left to do. */
  passes: number;
  durationMs: number;
}

export interface RotateColumnOptions {
  client: pg.Client;
  target: ColumnTarget;
  from: Codec;
  to: Codec;
  batchSize: number;
  dryRun: boolean;
  signal?: AbortSignal;
  /** After each batch: how far the current pass has come. */
  onProgress?: (progress: { pass: number; done: number; total: number }) => void;
  /** After each batch that wrote something (the state table's counts). */
  onCounts?: (counts: { rows: number; rotated: number; skipped: number }) => Promise<void>;
}

/** A pass that still changes something after this many passes means the app keeps writing with the old key. */
const MAX_PASSES = 10;
const MAX_NAMED_ROWS = 5;

/** What this run wrote to one row: fingerprints of the plaintext and of the ciphertext (never either). */
interface Written {
  plain: string;
  sealed: string;
}

/**
 * Re-encrypt one column, batch by batch, until a full pass finds nothing left to rotate. Each pass reads every value
 * (keyset pagination): a value this run wrote is verified (same ciphertext: it must decrypt with the new key to the
 * plaintext read before); any other value is classified: decrypts with the current key = rotate it (compare-and-swap
 * write); only with the new key = skip it; with neither = an error naming the row (left unchanged). So a run killed at
 * any point resumes by running again, and values the app wrote meanwhile with the old key are rotated too.
 */
export async function rotateColumn(options: RotateColumnOptions): Promise<ColumnResult> {
  const { client, target, from, to } = options;
  const started = performance.now();
  const hash = runHasher();
  const written = new Map<string, Written>();
  const skippedKeys = new Set<string>();
  const total = await countRows(client, target);
  const result: ColumnResult = {
    column: target.name,
    rows: total.rows,
    rotated: 0,
    skipped: 0,
    rewritten: 0,
    passes: 0,
    durationMs: 0,
  };
  const undecryptable: string[] = [];
  /** Rows of this pass the compare-and-swap did not update (the app rewrote them, or something dropped the update). */
  const missed: string[] = [];
  for (let pass = 1; pass <= MAX_PASSES; pass++) {
    result.passes = pass;
    let changed = 0;
    let done = 0;
    undecryptable.length = 0;
    missed.length = 0;
    // the workers' work on one batch overlaps the database's on its neighbours: the previous batch's write, then the
    // next batch's read (one statement at a time on the connection, in that order)
    let batch = await readBatch(client, target, undefined, options.batchSize);
    let writing: Promise<void> = Promise.resolve();
    while (batch.length) {
      if (options.signal?.aborted) {
        await writing; // the batch under way is finished, not abandoned
        throw options.signal.reason;
      }
      const after = batch[batch.length - 1]!.key;
      const [outcome, next] = await Promise.all([
        processBatch(batch),
        writing.then(() => readBatch(client, target, after, options.batchSize)),
      ]);
      const { write } = outcome;
      if (write) writing = write().then(() => (options.onCounts ? options.onCounts(result) : undefined));
      changed += outcome.changed;
      done += batch.length;
      options.onProgress?.({ pass, done, total: total.stored });
      batch = next;
    }
    await writing;
    if (undecryptable.length) {
      const named = undecryptable.slice(0, MAX_NAMED_ROWS).join(', ');
      throw new OpsError(
        'KEYS_UNDECRYPTABLE',
        `${target.name}: ${undecryptable.length} value(s) decrypt with neither the current nor the new key (primary key ${named}${undecryptable.length > MAX_NAMED_ROWS ? ', …' : ''}); they were left unchanged.`,
        { hint: 'Look at those rows: they hold no value the app could read. Fix or clear them, then run again.' },
      );
    }
    // a dry run writes nothing, so there is nothing to read back; otherwise stop when a pass changed nothing
    if (options.dryRun || changed === 0) {
      result.durationMs = Math.round(performance.now() - started);
      return result;
    }
  }
  const named = missed.slice(0, MAX_NAMED_ROWS).join(', ');
  throw new OpsError(
    'KEYS_NOT_SETTLED',
    `${target.name}: values under the current key kept appearing for ${MAX_PASSES} passes (rows not updated in the last pass: ${named}${missed.length > MAX_NAMED_ROWS ? ', …' : ''}).`,
    {
      hint: 'The app is still writing with the current key: rotate when it is stopped, or use the two-phase way (README, "`opsctl keys`"). Or a trigger or rule on the table drops the update of those rows (a BEFORE UPDATE trigger returning NULL): look at them.',
    },
  );

  /** Classify and re-encrypt a batch in the workers; `write`, to call when the connection is free, writes it back. */
  async function processBatch(batch: BatchRow[]): Promise<{ changed: number; write?: () => Promise<void> }> {
    const keys = batch.map((r) => keyOf(r.key));
    const ours: number[] = [];
    const others: number[] = [];
    batch.forEach((row, i) => {
      const w = written.get(keys[i]!);
      (w && w.sealed === hash(row.value) ? ours : others).push(i);
    });
    const [oldPlains, ourPlains] = await Promise.all([
      from.decrypt(others.map((i) => batch[i]!.value)),
      to.decrypt(ours.map((i) => batch[i]!.value)),
    ]);
    for (const [j, i] of ours.entries()) verifyOurs(batch[i]!, keys[i]!, ourPlains[j] ?? null);
    const toRotate: Array<{ i: number; plain: Plain }> = [];
    const notOld: number[] = [];
    others.forEach((i, j) => {
      const plain = oldPlains[j];
      if (plain != null) toRotate.push({ i, plain });
      else notOld.push(i);
    });
    const newPlains = await to.decrypt(notOld.map((i) => batch[i]!.value));
    notOld.forEach((i, j) => {
      if (newPlains[j] == null) undecryptable.push(batch[i]!.key.join('/'));
      else if (!skippedKeys.has(keys[i]!)) {
        skippedKeys.add(keys[i]!);
        result.skipped++;
      }
    });
    if (!toRotate.length) return { changed: 0 };
    const sealed = await to.seal(toRotate.map((r) => r.plain));
    const failed = sealed.findIndex((s) => s == null);
    if (failed >= 0) {
      throw new OpsError(
        'KEYS_ENCRYPT',
        `${target.name}: the new module did not encrypt the value of row ${batch[toRotate[failed]!.i]!.key.join('/')} so that it decrypts back to the same value; nothing of this batch was written.`,
        { hint: 'Check the new key and module (`--to-module`): encrypt then decrypt must give the value back.' },
      );
    }
    verifyFits(target, sealed, ' Nothing of this batch was written.');
    if (options.dryRun) {
      result.rotated += toRotate.length;
      return { changed: toRotate.length };
    }
    const rows = toRotate.map((r, j) => ({ key: batch[r.i]!.key, old: batch[r.i]!.value, next: sealed[j]! }));
    const write = async () =>
      noteWritten(
        await writeBatch(client, target, rows).catch((e) => explainWriteError(target, e)),
        toRotate,
        keys,
        sealed,
      );
    return { changed: toRotate.length, write };
  }

  /** Count what the compare-and-swap wrote, and remember its fingerprints for the verifying pass. */
  function noteWritten(
    updated: Set<string>,
    toRotate: Array<{ i: number; plain: Plain }>,
    keys: string[],
    sealed: (string | null)[],
  ): void {
    toRotate.forEach((r, j) => {
      const k = keys[r.i]!;
      if (!updated.has(k)) {
        result.rewritten++;
        missed.push(k);
        return;
      }
      // a row rotated before and rewritten by the app since is counted once
      if (!written.has(k)) result.rotated++;
      if (skippedKeys.delete(k)) result.skipped--;
      written.set(k, { plain: hash(r.plain), sealed: hash(sealed[j]!) });
    });
  }

  function verifyOurs(row: BatchRow, key: string, plain: Plain | null): void {
    if (plain != null && written.get(key)?.plain === hash(plain)) return;
    throw new OpsError(
      'KEYS_VERIFY',
      `${target.name}: row ${row.key.join('/')} was re-encrypted, but reading it back it does not decrypt with the new key to the value it held before.`,
      {
        hint: 'Stop here and compare the module and key used; the old key can still decrypt every row not yet rotated.',
      },
    );
  }
}
