import type { CrashGroup } from '../logs/fingerprint.js';
import { logSources, pm2HomeFrom, scanLogs, TAIL_BYTES } from '../logs/scan.js';
import { redact } from '../output/redact.js';
import type { Check, CheckResult } from './types.js';

const TAIL_MB = TAIL_BYTES / 1024 / 1024;

/** `logs`: uncaught exceptions and unhandled rejections in the app's log files, grouped by signature. */
export const logsCheck: Check = {
  id: 'logs',
  async run({ config, signal }): Promise<CheckResult> {
    if (!config.logs.length) {
      return {
        status: 'skip',
        message: 'no log files configured',
        hint: 'Set logs: in opsctl.config.yaml to globs of the app log files, e.g. [backend/logs/*.log].',
      };
    }
    const scan = await scanLogs(
      config.root,
      logSources(config.root, config.logs, pm2HomeFrom(config.root, config.env)),
      signal,
    );
    const files = scan.files.length;
    const fileWord = `${files} file${files === 1 ? '' : 's'}`;
    const notes = [
      ...scan.unmatched.map((p) => `${p} matches no file`),
      ...(scan.files.some((f) => f.truncated) ? [`only the last ${TAIL_MB} MB of large files were read`] : []),
      ...(scan.skipped ? [`${scan.skipped} older files not scanned`] : []),
    ];
    if (scan.groups.length) {
      const n = scan.groups.length;
      const more = n > 1 ? `; ${n - 1} more below` : '';
      return {
        status: 'fail',
        message: `${n} crash signature${n === 1 ? '' : 's'} in ${fileWord}: ${summary(scan.groups[0]!)}${more}`,
        hint:
          'Each is an uncaught exception or unhandled rejection that kills (or will kill) the process: fix the code at ' +
          'the frame shown or handle the error; full stacks are in the files listed.',
        details: [...scan.groups.flatMap(describe), ...notes],
      };
    }
    if (!files) {
      return {
        status: 'warn',
        message: `no log file matches ${scan.unmatched.join(', ')}`,
        hint: 'Check logs: in opsctl.config.yaml; globs are relative to the app root.',
      };
    }
    // files were found (PM2's own logs count), so a glob that matches nothing yet is a note, not a warning
    return {
      status: 'pass',
      message: `${fileWord} scanned, no uncaught exceptions or unhandled rejections`,
      ...(scan.unmatched.length
        ? { hint: 'Check logs: in opsctl.config.yaml; globs are relative to the app root.' }
        : {}),
      ...(notes.length ? { details: notes } : {}),
    };
  },
};

/** `TypeError: Cannot read … at routes/orders.js:42 ×3 (last 2026-11-26T03:12:00Z)`, redacted. */
function summary(group: CrashGroup): string {
  const where = group.frame ? ` at ${group.frame}` : '';
  return redact(`${group.type}: ${group.message}${where} ×${group.count} (last ${iso(group.lastSeen)})`);
}

function describe(group: CrashGroup): string[] {
  return [`${summary(group)} in ${group.files.join(', ')}`, ...group.stack.slice(1).map((l) => `    ${redact(l)}`)];
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
