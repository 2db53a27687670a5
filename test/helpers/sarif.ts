import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv-draft-04';

const SCHEMA = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/audit/sarif-2.1.0-rtm.5.json'), 'utf8'));

/** Errors of `log` against the published SARIF 2.1.0 schema (its source is noted beside it); [] when valid. */
export function validateSarif(log: unknown): string[] {
  // the schema's language-tag pattern is not a valid regular expression with the u flag
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  const validate = ajv.compile(SCHEMA);
  return validate(log) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
