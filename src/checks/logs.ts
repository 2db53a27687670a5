import { lstatSync } from 'node:fs';
import { deployPaths } from '../app/paths.js';
import type { ResolvedConfig } from '../config/types.js';
import type { CrashGroup } from '../logs/fingerprint.js';
import { logSources, scanLogs, TAIL_BYTES } from '../logs/scan.js';
import { redact } from '../output/redact.js';
import { pm2Home } from '../pm2/home.js';
import type { Check, CheckResult } from './types.js';

const TAIL_MB = TAIL_BYTES / 1024 / 1024;
/** With nothing deployed, how far back entries count. */
const NOTHING_DEPLOYED_MS = 24 * 3_600_000;

/**
 * `logs`: uncaught exceptions and unhandled rejections in PM2's logs of the app and the configured log files, since
 * `--since` or the current release started, grouped by signature; errors the app logged are only counted.
 */
export const logsCheck: Check = {
  id: 'logs',
  async run({ config, signal, since, now }): Promise<CheckResult> {
    const from = since ?? releaseStart(config) ?? new Date(now().getTime() - NOTHING_DEPLOYED_MS);
    const pm2 = { home: pm2Home(config.root, config.env), apps: config.packages.map((p) => p.name) };
    const scan = await scanLogs(logSources(config.root, config.logs, pm2), {
      root: config.root,
      packages: config.packages,
      since: from,
      signal,
    });
    const files = scan.files.length;
    const fileWord = `${files} file${files === 1 ? '' : 's'}`;
    const sinceWord = `since ${iso(from)}`;
    const notes = [
      ...scan.unmatched.map((p) => `${p} matches no file`),
      ...(scan.files.some((f) => f.truncated) ? [`only the last ${TAIL_MB} MB of large files were read`] : []),
      ...(scan.skipped ? [`${scan.skipped} older files not scanned`] : []),
      ...(scan.unchanged ? [`${scan.unchanged} file${scan.unchanged === 1 ? '' : 's'} not written ${sinceWord}`] : []),
    ];
    const logged = scan.loggedErrors ? `; ${scan.loggedErrors} logged error${scan.loggedErrors === 1 ? '' : 's'}` : '';
    if (scan.groups.length) {
      const n = scan.groups.length;
      const more = n > 1 ? `; ${n - 1} more below` : '';
      return {
        status: 'fail',
        message: `${n} crash signature${n === 1 ? '' : 's'} in ${fileWord} ${sinceWord}: ${summary(scan.groups[0]!)}${more}`,
        hint:
          'Each is an uncaught exception or unhandled rejection that kills (or will kill) the process: fix the code at ' +
          'the frame shown or handle the error; full stacks are in the files listed.',
        details: [...scan.groups.flatMap(describe), ...(logged ? [logged.slice(2)] : []), ...notes],
      };
    }
    if (!files && scan.unmatched.length) {
      return {
        status: 'warn',
        message: `no log file matches ${scan.unmatched.join(', ')}`,
        hint: 'Check logs: in opsctl.config.yaml; globs are relative to the app root.',
      };
    }
    if (!files) {
      return {
        status: 'skip',
        message: scan.unchanged
          ? `no log file written ${sinceWord}`
          : 'nothing to read: no PM2 logs of the app (nothing deployed) and no logs: configured',
        ...(scan.unchanged
          ? {}
          : { hint: 'Deploy the app, or set logs: in opsctl.config.yaml to globs of its log files.' }),
      };
    }
    // errors the app caught and logged are worth knowing, but never a failure
    const status = scan.loggedErrors ? 'warn' : 'pass';
    return {
      status,
      message: `${fileWord} scanned ${sinceWord}, no uncaught exceptions or unhandled rejections${logged}`,
      ...(status === 'warn'
        ? {
            hint: `Errors the app caught and logged, not crashes: opsctl logs --since ${sinceHint(from, now())} --grep '/error/i' shows them.`,
          }
        : scan.unmatched.length
          ? { hint: 'Check logs: in opsctl.config.yaml; globs are relative to the app root.' }
          : {}),
      ...(notes.length ? { details: notes } : {}),
    };
  },
};

/**
 * When the current release started: the oldest activation among the packages' `current` links (deploy replaces
 * the link when it starts a release), so a crash of any release still running counts; undefined when nothing is
 * deployed.
 */
export function releaseStart(config: Pick<ResolvedConfig, 'root' | 'packages'>): Date | undefined {
  const times = config.packages.flatMap((pkg) => {
    try {
      return [lstatSync(deployPaths(config.root).current(pkg.name)).mtime];
    } catch {
      return [];
    }
  });
  return times.length ? new Date(Math.min(...times.map((t) => t.getTime()))) : undefined;
}

/** `TypeError: Cannot read … at routes/orders.js:42 ×3 (last 2026-11-26T03:12:00Z)`, redacted. */
function summary(group: CrashGroup): string {
  const where = group.frame ? ` at ${group.frame}` : '';
  return redact(`${group.type}: ${group.message}${where} ×${group.count} (last ${iso(group.lastSeen)})`);
}

function describe(group: CrashGroup): string[] {
  return [`${summary(group)} in ${group.files.join(', ')}`, ...group.stack.slice(1).map((l) => `    ${redact(l)}`)];
}

/** A `--since` for `opsctl logs` covering the same span, rounded up to whole minutes. */
function sinceHint(from: Date, now: Date): string {
  return `${Math.max(1, Math.ceil((now.getTime() - from.getTime()) / 60_000))}m`;
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
