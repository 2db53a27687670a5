import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildProgram } from '../../commands/index.js';
import { CHECK_IDS } from '../../src/checks/ids.js';
import { opsctl } from '../helpers/cli.js';
import { makeInitApp } from '../helpers/init-app.js';

const apps: Array<{ remove(): void }> = [];
afterAll(() => {
  for (const app of apps) app.remove();
});

/** Write the pipeline for a fresh fixture app (optionally without migrations) and return its text. */
async function generate(provider: 'github' | 'gitlab', { migrations = true } = {}): Promise<string> {
  const app = makeInitApp();
  apps.push(app);
  if (!migrations) rmSync(join(app.root, 'api', 'migrations'), { recursive: true });
  const res = await opsctl(['init', '--yes', '--ci', provider], { cwd: app.root, env: { CI: undefined } });
  expect(res.exitCode, res.stderr).toBe(0);
  const file = provider === 'github' ? '.github/workflows/opsctl.yml' : '.gitlab-ci.yml';
  expect(res.stdout).toContain(`✔ written ${file}`);
  return readFileSync(join(app.root, file), 'utf8');
}

/** Every shell line of a pipeline: GitHub steps' `run`, GitLab's `script` and `before_script` items. */
function shellLines(doc: unknown): string[] {
  const lines: string[] = [];
  const walk = (node: unknown, key?: string) => {
    if (typeof node === 'string' && (key === 'run' || key === 'script' || key === 'before_script')) {
      lines.push(...node.split('\n').filter((l) => l.trim()));
    } else if (Array.isArray(node)) {
      for (const item of node) walk(item, key);
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) walk(v, k);
    }
  };
  walk(doc);
  return lines.map((l) => l.trim());
}

/**
 * Check an `opsctl …` line against the program's command table: each word a command of its parent, each flag an
 * option of the command or of one above it, each option's values accepted (choices, doctor's check ids).
 */
function verifyAgainstProgram(line: string): void {
  const words = line.split(/\s+/).slice(1);
  let cmd: CommandUnknownOpts = buildProgram();
  const findOption = (flag: string): Option | undefined => {
    for (let c: CommandUnknownOpts | null = cmd; c; c = c.parent) {
      const found = c.options.find((o) => o.long === flag || o.short === flag);
      if (found) return found as unknown as Option;
    }
    return undefined;
  };
  let positional = 0;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.startsWith('-')) {
      const option = findOption(word);
      expect(option, `${line}: ${word} is no option of \`${cmd.name()}\``).toBeDefined();
      if (!option!.required && !option!.optional) continue;
      const values: string[] = [];
      while (words[i + 1] !== undefined && !words[i + 1]!.startsWith('-')) {
        values.push(words[++i]!);
        if (!option!.variadic) break;
      }
      expect(values.length, `${line}: ${word} needs a value`).toBeGreaterThan(0);
      if (option!.argChoices) for (const v of values) expect(option!.argChoices).toContain(v);
      if (cmd.name() === 'doctor' && (word === '--only' || word === '--skip'))
        for (const v of values) expect(CHECK_IDS as readonly string[]).toContain(v);
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub && positional === 0) {
      cmd = sub;
      continue;
    }
    positional++;
    expect(cmd.registeredArguments.length, `${line}: \`${cmd.name()}\` takes no argument "${word}"`).toBeGreaterThan(0);
  }
}

function opsctlLines(doc: unknown): string[] {
  return shellLines(doc).filter((l) => l.startsWith('opsctl '));
}

describe('opsctl init --ci github', () => {
  it('writes a workflow that parses, runs the checks on every push and deploys on main only', async () => {
    const doc = parse(await generate('github'));
    expect(doc.on).toEqual({ push: null });
    expect(Object.keys(doc.jobs)).toEqual(['checks', 'migrations', 'deploy']);
    expect(shellLines(doc.jobs.checks)).toEqual(
      expect.arrayContaining([
        'npm install --prefix api', // the fixture's packages have no lockfile: npm ci would refuse
        'npm install --prefix shared',
        'npm install --prefix web',
        'opsctl doctor --only config node-version dependencies',
        'opsctl audit',
        'opsctl outdated',
      ]),
    );
    // the migration step has its PostgreSQL, and its URL
    const migrations = doc.jobs.migrations;
    expect(migrations.services.postgres.image).toMatch(/^postgres:\d+$/);
    expect(migrations.env.DATABASE_URL).toBe('postgres://postgres@localhost:5432/postgres');
    // the app reads its URL from PG_URL (and the config names it): the job sets that too
    expect(migrations.env.PG_URL).toBe('postgres://postgres@localhost:5432/postgres');
    expect(opsctlLines(migrations)).toEqual(['opsctl migrate', 'opsctl migrate status --exit-code']);
    expect(doc.jobs.deploy.if).toBe("github.ref == 'refs/heads/main'");
    expect(doc.jobs.deploy.needs).toEqual(['checks', 'migrations']);
    expect(opsctlLines(doc.jobs.deploy)).toEqual(['opsctl deploy']);
  });

  it('references only commands and flags that exist', async () => {
    const lines = opsctlLines(parse(await generate('github')));
    expect(lines.length).toBeGreaterThanOrEqual(6);
    for (const line of lines) verifyAgainstProgram(line);
  });

  it('has no migration job when the app has no migrations', async () => {
    const doc = parse(await generate('github', { migrations: false }));
    expect(Object.keys(doc.jobs)).toEqual(['checks', 'deploy']);
    expect(doc.jobs.deploy.needs).toEqual(['checks']);
  });
});

describe('opsctl --config <file> init --ci', () => {
  it('writes the pipeline from that config, and every opsctl step names it', async () => {
    const config = [
      'packages:',
      '  api: { path: api }',
      '  web: { path: web }',
      'database:',
      '  url: ${APP_PG}',
      '  migrations: api/migrations',
      'environments:',
      '  production: { redis: { url: redis://cache:6379 } }',
      '',
    ].join('\n');
    const app = makeInitApp({ 'ops/opsctl.yaml': config });
    apps.push(app);
    const env = { CI: undefined };
    const res = await opsctl(['--config', 'ops/opsctl.yaml', 'init', '--ci', 'github'], { cwd: app.root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe('✔ written .github/workflows/opsctl.yml');
    const doc = parse(readFileSync(join(app.root, '.github/workflows/opsctl.yml'), 'utf8'));
    const lines = opsctlLines(doc);
    expect(lines.length).toBeGreaterThanOrEqual(6);
    for (const line of lines) {
      expect(line).toMatch(/^opsctl --config ops\/opsctl\.yaml /);
      verifyAgainstProgram(line);
    }
    expect(doc.jobs.migrations.env.APP_PG).toBe('postgres://postgres@localhost:5432/postgres');
    expect(opsctlLines(doc.jobs.deploy)).toEqual(['opsctl --config ops/opsctl.yaml deploy --env production']);
    // no second config beside the one given
    expect(existsSync(join(app.root, 'opsctl.config.yaml'))).toBe(false);
    // plain init with --config would write a config the next run ignores: exit 2 naming it
    const plain = await opsctl(['-c', 'ops/opsctl.yaml', 'init', '--yes', '--json'], { cwd: app.root, env });
    expect(plain.exitCode).toBe(2);
    expect(JSON.parse(plain.stdout).error.message).toContain('--config names ops/opsctl.yaml');
    expect(existsSync(join(app.root, 'opsctl.config.yaml'))).toBe(false);
  });
});

describe('the README', () => {
  it('shows the workflow init writes for the example shop, as it writes it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'opsctl-init-shop-'));
    apps.push({ remove: () => rmSync(root, { recursive: true, force: true }) });
    const shop = join(import.meta.dirname, '../../examples/shop');
    cpSync(shop, root, { recursive: true, filter: (src) => !/node_modules|\.opsctl|[\\/]dist$/.test(src) });
    const res = await opsctl(['init', '--ci', 'github'], { cwd: root, env: { CI: undefined } });
    expect(res.exitCode, res.stderr).toBe(0);
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Use in CI'));
    const shown = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(shown).toBe(readFileSync(join(root, '.github/workflows/opsctl.yml'), 'utf8'));
  });
});

describe('opsctl init --ci gitlab', () => {
  it('writes a pipeline that parses, with PostgreSQL for the migrations and deploy on main', async () => {
    const doc = parse(await generate('gitlab'));
    expect(doc.stages).toEqual(['check', 'deploy']);
    expect(opsctlLines(doc.checks)).toEqual([
      'opsctl doctor --only config node-version dependencies',
      'opsctl audit',
      'opsctl outdated',
    ]);
    expect(doc.migrations.services).toEqual([{ name: expect.stringMatching(/^postgres:\d+$/), alias: 'postgres' }]);
    expect(doc.migrations.variables.DATABASE_URL).toBe('postgres://postgres@postgres:5432/postgres');
    expect(doc.migrations.variables.PG_URL).toBe('postgres://postgres@postgres:5432/postgres');
    expect(opsctlLines(doc.migrations)).toEqual(['opsctl migrate', 'opsctl migrate status --exit-code']);
    expect(doc.deploy.rules).toEqual([{ if: '$CI_COMMIT_BRANCH == "main"' }]);
    for (const line of opsctlLines(doc)) verifyAgainstProgram(line);
  });

  it('has no migration job when the app has no migrations', async () => {
    const doc = parse(await generate('gitlab', { migrations: false }));
    expect(doc.migrations).toBeUndefined();
    expect(doc.checks).toBeDefined();
  });
});

describe('the command-table check itself', () => {
  it('rejects a command, a flag or a check id that does not exist', () => {
    expect(() => verifyAgainstProgram('opsctl migrate status --exit-code')).not.toThrow();
    expect(() => verifyAgainstProgram('opsctl migrate staus')).toThrow();
    expect(() => verifyAgainstProgram('opsctl migrate status --exit-cod')).toThrow();
    expect(() => verifyAgainstProgram('opsctl doctor --only config nodeversion')).toThrow();
    expect(() => verifyAgainstProgram('opsctl audit --level urgent')).toThrow();
  });
});
