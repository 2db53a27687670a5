import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Ajv as AjvClass, ErrorObject } from 'ajv';

const SCHEMA = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/audit/sarif-2.1.0-rtm.5.json'), 'utf8'));
// ajv-draft-04 is CommonJS; require() hands over its class whatever the module interop does (the schema is draft-04)
const Ajv = createRequire(import.meta.url)('ajv-draft-04') as typeof AjvClass;

/** Errors of `log` against the published SARIF 2.1.0 schema (its source is noted beside it); [] when valid. */
export function validateSarif(log: unknown): string[] {
  // the schema's language-tag pattern is not a valid regular expression with the u flag
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  const validate = ajv.compile(SCHEMA);
  return validate(log) ? [] : (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath} ${e.message}`);
}
