import { connectClient } from '../db/migrate/connect.js';
import { ExitCode, errorMessage, isOpsError } from '../errors.js';
import { readColumnTargets } from '../keys/catalog.js';
import { openCodec } from '../keys/codec.js';
import { codecSpec, readEncryptionSettings } from '../keys/settings.js';
import { type ColumnStatus, describeUnfinished, readKeyStatus } from '../keys/status.js';
import type { Check, CheckResult } from './types.js';

/** Values tried per column: enough to tell a wrong key, bounded so doctor stays fast on a big table. */
const SAMPLE = 20;
const ANSWER_MARGIN_MS = 250;

const failed = (err: unknown): CheckResult => ({
  status: 'fail',
  message: errorMessage(err),
  hint: isOpsError(err) ? err.hint : undefined,
});

/**
 * doctor `encryption`: fail when sampled values of a configured column do not decrypt with the key the app is given
 * (`keyEnv` in its environment), or a rotation of it has not finished (values under two keys); warn when a column's last rotation is older than `maxAgeDays`, or none is recorded.
 * Skipped without an `encryption` config, or when the database is not reachable (the `postgres` check's finding).
 */
export const encryptionCheck: Check = {
  id: 'encryption',
  async run(ctx): Promise<CheckResult> {
    const started = performance.now();
    const { config } = ctx;
    const settings = readEncryptionSettings(config);
    if (!settings) return { status: 'skip', message: 'no encryption config (nothing to check)' };
    const key = config.env[settings.keyEnv];
    if (!key?.trim()) {
      return {
        status: 'fail',
        message: `${settings.keyEnv} is not set: the app cannot decrypt ${settings.columns.join(', ')}`,
        hint: `Set ${settings.keyEnv} where the app reads it (the environment, or the app's .env).`,
      };
    }
    if (!config.database.url) return { status: 'skip', message: 'no database configured' };
    const budgetMs = () => Math.max(1, ctx.timeoutMs - (performance.now() - started) - ANSWER_MARGIN_MS);
    let client: Awaited<ReturnType<typeof connectClient>>;
    try {
      client = await connectClient(config.database.url, {
        connectTimeoutMs: budgetMs(),
        lockTimeoutMs: budgetMs(),
        statementTimeoutMs: budgetMs(),
        signal: ctx.signal,
      });
    } catch (err) {
      if (isOpsError(err) && (err.exitCode === ExitCode.unreachable || err.code === 'DB_URL'))
        return { status: 'skip', message: `database not reachable: ${err.message}`, hint: err.hint };
      return failed(err);
    }
    let statuses: ColumnStatus[];
    try {
      const targets = await readColumnTargets(client, settings.columns);
      const codec = await openCodec(codecSpec(config, settings, key, 'configured key'));
      // the check's time is up: stop the worker too, or it would keep doctor's process alive
      const stop = () => void codec.close();
      ctx.signal.addEventListener('abort', stop, { once: true });
      try {
        statuses = await readKeyStatus({
          client,
          schema: config.database.schema,
          targets,
          codec,
          key,
          sample: SAMPLE,
          now: ctx.now(),
        });
      } finally {
        ctx.signal.removeEventListener('abort', stop);
        await codec.close();
      }
    } catch (err) {
      return failed(err);
    } finally {
      await client.end().catch(() => undefined);
    }
    return judge(statuses, settings.keyEnv, settings.maxAgeDays);
  },
};

function judge(statuses: ColumnStatus[], keyEnv: string, maxAgeDays: number): CheckResult {
  const unfinished = statuses.map(describeUnfinished).filter((m) => m !== undefined);
  if (unfinished.length) {
    return {
      status: 'fail',
      message: unfinished.join('; '),
      hint: 'Run the same `opsctl keys rotate` again to finish it (it resumes), then give the app the new key and `opsctl deploy`.',
    };
  }
  const wrong = statuses.filter((s) => s.decrypt < s.checked);
  if (wrong.length) {
    return {
      status: 'fail',
      message: wrong
        .map(
          (s) => `${s.column}: ${s.checked - s.decrypt} of ${s.checked} sampled values do not decrypt with ${keyEnv}`,
        )
        .join('; '),
      hint: `The app is given another key than its data is encrypted with: check ${keyEnv} (an unfinished \`opsctl keys rotate\`? \`opsctl keys status\` says more).`,
    };
  }
  // a last rotation to another key than the app's: the app was not given the new key (nothing to sample may hide it)
  const age = (s: ColumnStatus) =>
    s.lastRotation
      ? `rotated ${s.lastRotation.ageDays} d ago${s.lastRotation.current ? '' : ` to another key than ${keyEnv} holds`}`
      : 'no rotation recorded';
  const stale = statuses.filter((s) => !s.lastRotation?.current || s.lastRotation.ageDays > maxAgeDays);
  const summary = statuses.map((s) => `${s.column}: ${s.decrypt}/${s.checked} sampled decrypt, ${age(s)}`).join('; ');
  if (stale.length) {
    return {
      status: 'warn',
      message: `${stale.map((s) => `${s.column}: ${age(s)}`).join('; ')} (maxAgeDays ${maxAgeDays})`,
      hint: stale.some((s) => s.lastRotation && !s.lastRotation.current)
        ? `Give the app the key of the last \`opsctl keys rotate\` (${keyEnv}, then \`opsctl deploy\`), or rotate again.`
        : 'Rotate the key: `opsctl keys rotate --generate --key-file <file>` (README, "`opsctl keys`").',
    };
  }
  return { status: 'pass', message: summary };
}
