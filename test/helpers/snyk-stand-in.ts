import { appendFileSync, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SNYK_FIXTURES = join(import.meta.dirname, '../fixtures/audit');

/** What the stand-in does in a package folder: print `file` (or `text`) and exit with `exit`. */
export interface SnykAnswer {
  exit: 0 | 1 | 2 | 3;
  file?: string;
  text?: string;
}

/**
 * A `snyk` executable in `<dir>/bin` that prints Snyk's recorded `snyk test --json` output (the fixtures of
 * test/fixtures/audit) and exits with the code Snyk documents for it. The plan is per package folder name
 * (`*` for the rest); every call's folder and arguments go to `<dir>/calls.log`, one JSON line each.
 */
export function snykStandIn(dir: string, plan: Record<string, SnykAnswer>): { bin: string; calls: string } {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const calls = join(dir, 'calls.log');
  writeFileSync(calls, '');
  writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
  const script = `#!${process.execPath}
const { readFileSync, appendFileSync } = require('node:fs');
const { basename, join } = require('node:path');
const plan = JSON.parse(readFileSync(${JSON.stringify(join(dir, 'plan.json'))}, 'utf8'));
appendFileSync(${JSON.stringify(calls)}, JSON.stringify({ cwd: basename(process.cwd()), args: process.argv.slice(2), token: process.env.SNYK_TOKEN ? 'set' : 'unset' }) + '\\n');
const answer = plan[basename(process.cwd())] || plan['*'];
process.stdout.write(answer.file ? readFileSync(join(${JSON.stringify(SNYK_FIXTURES)}, answer.file), 'utf8') : answer.text);
process.exitCode = answer.exit;
`;
  writeFileSync(join(bin, 'snyk'), script);
  chmodSync(join(bin, 'snyk'), 0o755);
  appendFileSync(calls, '');
  return { bin, calls };
}
