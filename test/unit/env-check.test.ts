import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { envCheck } from '../../src/checks/env.js';
import { loadConfig } from '../../src/config/load.js';
import { configJsonSchema } from '../../src/config/schema.js';
import { checkContext } from '../helpers/check-context.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An app with one package `api` (no start script needed: the env check reads files and the config only). */
function app(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'opsctl-env-check-'));
  dirs.push(root);
  mkdirSync(join(root, 'api'));
  writeFileSync(join(root, 'api', 'package.json'), JSON.stringify({ name: 'api', version: '1.0.0' }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
  return root;
}

const run = (root: string, processEnv: Record<string, string | undefined> = {}) =>
  envCheck.run(checkContext(loadConfig({ cwd: root, processEnv })));

const CONFIG = 'packages:\n  api:\n    path: api\n';

describe('env check', () => {
  it('nothing declared (no .env.example, no requiredEnv): skip, saying why', async () => {
    const result = await run(app({ 'opsctl.config.yaml': CONFIG }));
    expect(result.status).toBe('skip');
    expect(result.message).toMatch(/\.env\.example/);
    expect(result.message).toMatch(/requiredEnv/);
  });

  it('every key set, from the app .env, the real environment and the package env: pass, names only', async () => {
    const root = app({
      'opsctl.config.yaml': `${CONFIG}    env:\n      FROM_CONFIG: cfg-value-3131\n    requiredEnv: [FROM_REAL_ENV]\n`,
      'api/.env.example': 'FROM_DOTENV=\nFROM_CONFIG=\n# a comment\n',
      '.env': 'FROM_DOTENV=dotenv-value-2121\n',
    });
    const result = await run(root, { FROM_REAL_ENV: 'real-value-4141' });
    expect(result.status).toBe('pass');
    expect(result.message).toBe('api: 3 required variables set (FROM_DOTENV, FROM_CONFIG, FROM_REAL_ENV)');
    expect(JSON.stringify(result)).not.toMatch(/value-\d{4}/);
  });

  it('a key of .env.example that is not set: fail, naming the key and where it is required, never a value', async () => {
    const root = app({
      'opsctl.config.yaml': CONFIG,
      'api/.env.example': 'ENCRYPTION_KEY=put-a-64-char-hex-key-here\nOTHER=\n',
      '.env': 'OTHER=other-secret-5151\n',
    });
    const result = await run(root);
    expect(result.status).toBe('fail');
    expect(result.message).toBe('api: ENCRYPTION_KEY not set');
    expect(result.details).toEqual(['api: ENCRYPTION_KEY not set (required by api/.env.example)']);
    expect(result.hint).toMatch(/\.env/);
    expect(JSON.stringify(result)).not.toContain('other-secret-5151');
    expect(JSON.stringify(result)).not.toContain('put-a-64-char');
  });

  it('a value present but empty counts as unset', async () => {
    const root = app({ 'opsctl.config.yaml': CONFIG, 'api/.env.example': 'TOKEN=\n', '.env': 'TOKEN=\n' });
    const result = await run(root);
    expect(result.status).toBe('fail');
    expect(result.message).toBe('api: TOKEN empty (an empty value counts as unset)');
  });

  it('requiredEnv of the config: missing fails, set passes', async () => {
    const root = app({ 'opsctl.config.yaml': `${CONFIG}    requiredEnv: [SMTP_URL]\n` });
    const missing = await run(root);
    expect(missing.status).toBe('fail');
    expect(missing.details).toEqual(['api: SMTP_URL not set (required by requiredEnv)']);
    expect((await run(root, { SMTP_URL: 'smtp://mail' })).status).toBe('pass');
  });

  it('PORT, DATABASE_URL and REDIS_URL count as set when opsctl gives them to the process', async () => {
    const root = app({
      'opsctl.config.yaml': 'packages:\n  api:\n    path: api\n    port: 4100\nredis:\n  url: redis://127.0.0.1:6379\n',
      'api/.env.example': 'PORT=\nDATABASE_URL=\nREDIS_URL=\n',
    });
    const result = await run(root, { DATABASE_URL: 'postgres://u:p@h/db' });
    expect(result.status).toBe('pass');
    expect(result.message).toBe('api: 3 required variables set (PORT, DATABASE_URL, REDIS_URL)');
  });

  it('requiredEnv is in the config schema (names only) and its JSON Schema', () => {
    const bad = app({ 'opsctl.config.yaml': `${CONFIG}    requiredEnv: ["not a name"]\n` });
    expect(() => loadConfig({ cwd: bad, processEnv: {} })).toThrow(/requiredEnv/);
    expect(JSON.stringify(configJsonSchema())).toContain('"requiredEnv"');
  });
});
