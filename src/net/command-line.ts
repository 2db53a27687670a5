import { basename } from 'node:path';
import { isSecretName, MASK, redact } from '../output/redact.js';

const MAX_LENGTH = 200; // a command line is a hint, not a dump; very long ones are cut

/**
 * A process' argv made safe to print: values of secret-looking flags and assignments
 * (`--password=x`, `--token x`, `DB_PASSWORD=x`) are masked, URL passwords and known secrets redacted.
 */
export function formatCommandLine(argv: string[]): string {
  const safe: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const assignment = /^(-{0,2}[\w.-]+)=(.*)$/s.exec(arg);
    if (assignment && isSecretName(assignment[1]!) && assignment[2]) {
      safe.push(`${assignment[1]}=${MASK}`);
    } else if (/^--?[\w.-]+$/.test(arg) && isSecretName(arg) && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) {
      safe.push(arg, MASK);
      i++;
    } else {
      safe.push(arg);
    }
  }
  const text = redact(safe.map(quote).join(' '));
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH - 1)}…` : text;
}

function quote(arg: string): string {
  return /[\s"']/.test(arg) || arg === '' ? JSON.stringify(arg) : arg;
}

/** Is this executable (a path, or argv[0]) Node.js itself: `node`, `nodejs`, `node20`, `node.exe`? */
export function isNodeExecutable(path: string | undefined): boolean {
  return Boolean(path && /^node(js)?[\d.]*(\.exe)?$/i.test(basename(path.split(' ')[0]!)));
}
