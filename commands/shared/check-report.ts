import chalk from 'chalk';
import type { CheckReport, CheckStatus } from '../../src/checks/types.js';
import { out } from './output.js';

const ICONS: Record<CheckStatus, string> = {
  pass: chalk.green('✔'),
  warn: chalk.yellow('⚠'),
  fail: chalk.red('✖'),
  skip: chalk.dim('–'),
};

/** doctor's report lines (also `watch --once`): icon, id, message, details and the hint of what is not green. */
export function printReports(reports: CheckReport[]): void {
  const width = Math.max(...reports.map((r) => r.id.length));
  for (const r of reports) {
    out(`${ICONS[r.status]} ${r.id.padEnd(width)}  ${r.message}`);
    for (const line of r.details ?? []) out(`  ${' '.repeat(width)}  ${chalk.dim(line)}`);
    if (r.hint && r.status !== 'pass') out(`  ${' '.repeat(width)}  ${chalk.cyan('→')} ${r.hint}`);
  }
}

/** A check in a JSON document (README, "JSON shapes": doctor's `checks`). */
export function checkJson(r: CheckReport) {
  return {
    id: r.id,
    status: r.status,
    message: r.message,
    ...(r.hint ? { hint: r.hint } : {}),
    ...(r.details ? { details: r.details } : {}),
    durationMs: r.durationMs,
  };
}
