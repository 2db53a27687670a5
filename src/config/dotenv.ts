// Hand-written: dotenv-expand@1000 runs `$(command)` found in values, and dotenv-expand@13 expands `$VAR` again
// inside a substituted value (a password `S3cr$tPw` used through ${DB_PASSWORD} loses `$tPw`); only ${VAR} here.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { addEnvValue } from '../output/redact.js';

/** `${VAR}` or `${VAR:-default}`; a backslash before the `$` keeps it literal. */
const REFERENCE = /(\\?)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * The app's `.env` (README, "Config"), with `${VAR}` references expanded: the real environment first (a `.env`
 * never overrides it), then the file's own values. Every value, before and after expansion, is
 * learned as a secret (README, "Output").
 */
export function readDotenv(root: string, processEnv: Record<string, string | undefined>): Record<string, string> {
  const file = join(root, '.env');
  if (!existsSync(file)) return {};
  const raw = parseDotenv(readFileSync(file));
  const expanded: Record<string, string> = {};
  const resolving = new Set<string>();
  const lookup = (name: string): string | undefined => {
    if (processEnv[name] !== undefined) return processEnv[name];
    if (name in expanded) return expanded[name];
    if (!(name in raw) || resolving.has(name)) return undefined; // a reference cycle expands to empty
    resolving.add(name);
    expanded[name] = expandValue(raw[name]!, lookup);
    resolving.delete(name);
    return expanded[name];
  };
  for (const name of Object.keys(raw)) lookup(name);
  for (const [name, value] of [...Object.entries(raw), ...Object.entries(expanded)]) addEnvValue(name, value);
  return Object.fromEntries(Object.keys(raw).map((name) => [name, expanded[name] ?? raw[name]!]));
}

function expandValue(value: string, lookup: (name: string) => string | undefined): string {
  return value.replace(REFERENCE, (whole, escaped: string, name: string, fallback?: string) =>
    escaped ? whole.slice(1) : lookup(name) || (fallback ?? ''),
  );
}
