import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { expand } from 'dotenv-expand';
import { addEnvValue } from '../output/redact.js';

/**
 * The app's `.env` (README, "Config"), with `${VAR}`, `${VAR:-default}` and `$VAR` references expanded by
 * dotenv-expand (`\$` keeps a dollar sign): the real environment first (a `.env` never overrides it), then the
 * file's values above the reference. Every value, before and after expansion, is learned as a possible secret
 * (README, "Output": secret-named or generated-looking values).
 */
export function readDotenv(root: string, processEnv: Record<string, string | undefined>): Record<string, string> {
  const file = join(root, '.env');
  if (!existsSync(file)) return {};
  const raw = parseDotenv(readFileSync(file));
  for (const [name, value] of Object.entries(raw)) addEnvValue(name, value);
  // dotenv-expand writes the result into processEnv: give it a copy, the caller's environment stays untouched
  const env = Object.fromEntries(Object.entries(processEnv).filter((e): e is [string, string] => e[1] !== undefined));
  const { parsed = {} } = expand({ parsed: { ...raw }, processEnv: env });
  for (const [name, value] of Object.entries(parsed)) if (processEnv[name] === undefined) addEnvValue(name, value);
  return parsed;
}
