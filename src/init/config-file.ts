import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document } from 'yaml';
import { configJsonSchema } from '../config/schema.js';
import { configError } from '../errors.js';
import type { InitAnswers } from './types.js';
import type { FileToWrite } from './write-files.js';

export const CONFIG_FILE = 'opsctl.config.yaml';
/** Written beside the config; the config's first line points editors at it (README, "`opsctl init`"). */
export const SCHEMA_FILE = 'opsctl.schema.json';

const HEADER = [
  // the modeline the YAML language server (VS Code's YAML extension, and editors built on it) reads
  ` yaml-language-server: $schema=./${SCHEMA_FILE}`,
  ' Written by `opsctl init`. Every key: `opsctl config schema`; the resolved config: `opsctl config show`.',
].join('\n');

/** The config `init` writes for the answers, as YAML text. */
export function renderConfig(answers: InitAnswers): string {
  const packages: Record<string, Record<string, unknown>> = {};
  for (const p of answers.packages) {
    packages[p.name] = {
      path: p.path,
      ...(p.port !== undefined ? { port: p.port } : {}),
      ...(p.health ? { health: p.health } : {}),
    };
  }
  const database = {
    ...(answers.databaseVariable ? { url: `\${${answers.databaseVariable}}` } : {}),
    ...(answers.migrations ? { migrations: answers.migrations } : {}),
    ...(answers.tool ? { tool: answers.tool } : {}),
  };
  const doc = new Document({
    packages,
    ...(Object.keys(database).length ? { database } : {}),
    ...(answers.redisVariable ? { redis: { url: `\${${answers.redisVariable}}` } } : {}),
  });
  doc.commentBefore = HEADER;
  return doc.toString({ lineWidth: 0 });
}

/** The file names an existing config is found under (the loader's own list, README "Config"). */
export function existingConfig(root: string, names: string[]): string | undefined {
  return names.find((name) => existsSync(join(root, name)));
}

/** Throws the exit-2 error for a config that is there already and `--force` was not given. */
export function verifyNoConfig(root: string, names: string[]): void {
  const found = existingConfig(root, names);
  if (found) {
    throw configError(
      `${found} exists already; opsctl init does not overwrite it.`,
      'Pass --force to replace it, or --ci github|gitlab / --scripts to add only those to this app.',
    );
  }
}

/** The config and, when it differs from the one there, the JSON Schema beside it (relative to root). */
export function configFiles(root: string, text: string, force: boolean): FileToWrite[] {
  const schema = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
  const schemaPath = join(root, SCHEMA_FILE);
  // opsctl's own file: refreshed when it differs (a newer opsctl knows more keys)
  const fresh = !existsSync(schemaPath) || readFileSync(schemaPath, 'utf8') !== schema;
  return [
    { path: CONFIG_FILE, text, exclusive: !force },
    ...(fresh ? [{ path: SCHEMA_FILE, text: schema, exclusive: false }] : []),
  ];
}
