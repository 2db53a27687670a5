import { acquireMigrationLock, lockKeys } from '../../src/db/migrate/lock.js';
import { setSessionBounds } from '../../src/db/migrate/session.js';
import { describeTarget, isProduction } from '../../src/db/target-label.js';
import { ExitCode, usageError } from '../../src/errors.js';
import { verifyEveryRowVisible } from '../../src/keys/catalog.js';
import { type Codec, openCodec, resolveModulePath } from '../../src/keys/codec.js';
import { keyFingerprint } from '../../src/keys/fingerprint.js';
import { type RotationRun, rotationTasks, verifySamples } from '../../src/keys/rotate.js';
import type { ColumnResult } from '../../src/keys/rotate-column.js';
import { codecSpec, readKeyFileWarning, readNewKey, verifyChange, writeKeyFile } from '../../src/keys/settings.js';
import { STATE_TABLE, verifyRotationPrivileges } from '../../src/keys/state.js';
import { runTasks } from '../../src/tasks/run.js';
import { confirmInProduction, verifyConfirmable } from '../shared/confirm-change.js';
import { type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { err, out, table } from '../shared/output.js';
import { openKeysSession } from './shared.js';

export interface RotateOptions extends GlobalOptions {
  newKeyEnv?: string;
  keyFile?: string;
  generate?: boolean;
  toModule?: string;
  batchSize: number;
  lockTimeout: number;
}

/** Row locks the app holds are waited for this long per batch (the advisory lock has its own --lock-timeout). */
const ROW_LOCK_TIMEOUT_MS = 30_000;
/** After a signal, the batch under way finishes (one statement) before the run stops. */
const STOP_GRACE_MS = 30_000;

/** `opsctl keys rotate` (README, "`opsctl keys`"). */
export function rotate(cmd: Invocation<RotateOptions>): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const opts = cli.opts;
    const dryRun = Boolean(opts.dryRun);
    const config = cli.config();
    // under --env production a rotation asks first (README, "Confirmations"); refused before connecting when it cannot
    const question = (columns: string) => `Re-encrypt ${columns} on ${describeTarget(config)}`;
    const change = (columns: string) => ({
      question: question(columns),
      unchanged: 'nothing was changed',
      alternative: '--dry-run to count what would change',
    });
    if (!dryRun && isProduction(config))
      verifyConfirmable(cli, { ...change(config.encryption?.columns.join(', ') ?? ''), destructive: true });
    const newKeyGiven = Boolean(opts.newKeyEnv || opts.keyFile);
    if (!newKeyGiven && !opts.toModule) {
      throw usageError(
        'keys rotate needs a new key or a new module.',
        'Pass --new-key-env <VAR>, --key-file <file> (--generate writes a new one), or --to-module <path>.',
      );
    }
    // the new key (or the file --generate will write) is checked before connecting
    const givenKey = readNewKey(opts, config.env);
    const modeWarning = opts.keyFile && !opts.generate ? readKeyFileWarning(opts.keyFile) : undefined;
    if (modeWarning && !cli.json) err(`⚠ ${modeWarning}`);
    const session = await openKeysSession(cli, 'rotate');
    const { settings, client, targets, currentKey } = session;
    const codecs: Codec[] = [];
    const results: ColumnResult[] = [];
    const resumed: string[] = [];
    const fields = () => ({ dryRun, columns: results, resumed });
    const releases: Array<() => Promise<void>> = [];
    try {
      for (const target of targets) verifyEveryRowVisible(target);
      await verifyRotationPrivileges(client, config.database.schema, targets);
      const newKey = givenKey ?? currentKey;
      const toModule = opts.toModule ?? settings.module;
      // the same file under two spellings (`enc.js`, `./enc.js`) is the same module
      const path = (module: string) => resolveModulePath(module, config.root);
      verifyChange(currentKey, newKey, path(settings.module), path(toModule));
      if (!dryRun) await confirmInProduction(cli, change(targets.map((t) => t.name).join(', ')));
      const from = await openCodec(codecSpec(config, settings, currentKey, 'current key'));
      codecs.push(from);
      const to = await openCodec(codecSpec(config, settings, newKey, 'new key', toModule));
      codecs.push(to);
      if (!dryRun) {
        for (const target of targets) {
          releases.push(
            await acquireMigrationLock(client, lockKeys(STATE_TABLE, target.name), {
              timeoutMs: opts.lockTimeout,
              what: `key rotation (${target.name})`,
              code: 'KEYS_LOCKED',
              doing: `rotating the key of ${target.name}`,
            }),
          );
        }
      }
      // a count or a batch of a big table may take long; a row lock the app holds is waited for, bounded
      await setSessionBounds(client, { lockTimeoutMs: ROW_LOCK_TIMEOUT_MS, statementTimeoutMs: 0 });
      // batches commit without waiting for the disk; each column ends with a synchronous commit (src/keys/rotate.ts)
      if (!dryRun) await client.query("select set_config('synchronous_commit', 'off', false)");
      const run: RotationRun = {
        client,
        schema: config.database.schema,
        targets,
        from,
        to,
        fromKey: keyFingerprint(currentKey),
        toKey: keyFingerprint(newKey),
        fromModule: settings.module,
        toModule,
        keyEnv: settings.keyEnv,
        batchSize: opts.batchSize,
        dryRun,
        signal: cli.deferSignals(STOP_GRACE_MS),
        results,
        resumed,
      };
      await verifySamples(run);
      // a signal during the checks stops the run here: nothing written, not even the state table
      if (run.signal?.aborted) throw run.signal.reason;
      // the new key's file is written once nothing stands in the way, before the first value changes
      if (opts.generate && opts.keyFile && !dryRun) writeKeyFile(opts.keyFile, newKey);
      const errors = await runTasks(rotationTasks(run), {}, { renderer: cli.renderer });
      if (errors.length) return cli.fail(errors[0], fields());
      const next = nextSteps(settings.keyEnv, opts.toModule, dryRun);
      if (!cli.json) printSummary(run, next);
      return cli.finish(ExitCode.ok, {
        ...fields(),
        variable: settings.keyEnv,
        fingerprint: keyFingerprint(newKey),
        next,
      });
    } catch (error) {
      return cli.fail(error, fields());
    } finally {
      for (const release of releases) await release().catch(() => undefined);
      for (const codec of codecs) await codec.close();
      await client.end().catch(() => undefined);
    }
  });
}

/** What to do after the data moved: the app must get the new key (or module) before the old one goes. */
function nextSteps(keyEnv: string, toModule: string | undefined, dryRun: boolean): string[] {
  if (dryRun) return [];
  return [
    `Set ${keyEnv} to the new key where the app reads it (its .env or secret store)${toModule ? `, and encryption.module to ${toModule} (and the app's imports)` : ''}.`,
    'Run `opsctl deploy` so every process runs with it.',
    `Keep the old key until the deploy is healthy (\`opsctl status\`, \`opsctl doctor --only encryption\`); then retire it.`,
  ];
}

function printSummary(run: RotationRun, next: string[]): void {
  const rows = run.results.map((r) => [
    r.column,
    String(r.rows),
    String(r.rotated),
    String(r.skipped),
    String(r.passes),
    `${r.durationMs} ms`,
  ]);
  out(table(rows, ['column', 'rows', 'rotated', 'skipped', 'passes', 'time']));
  if (run.resumed.length) err(`Resumed the interrupted rotation of ${run.resumed.join(', ')}.`);
  if (run.dryRun) {
    err('Dry run: every value was decrypted and re-encrypted in memory; nothing was written.');
    return;
  }
  out('');
  out('Every value now decrypts with the new key (each was read back and compared). Next:');
  for (const [i, step] of next.entries()) out(`  ${i + 1}. ${step}`);
}
