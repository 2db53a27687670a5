import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import { hasScript, runOnPty } from '../helpers/pty.js';
import { hasTmux, startTmux, type TmuxSession } from '../helpers/tmux.js';

// An app whose backend has npm scripts that write down that they ran (order) and one that fails; doctor's `env`
// check fails on a required variable nobody sets (findings, exit 1), its `node-version` check passes.
const UNSET = 'OPSCTL_PIPELINE_TEST_NEVER_SET';
let app: string;
let marks: string;

const mark = (name: string) => `node -e "require('fs').appendFileSync(process.env.MARKS, '${name}\\\\n')"`;

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'opsctl-pipelines-'));
  mkdirSync(join(app, 'backend'));
  writeFileSync(
    join(app, 'backend', 'package.json'),
    JSON.stringify({
      name: 'backend',
      version: '1.0.0',
      scripts: {
        'mark-a': mark('a'),
        'mark-b': mark('b'),
        broken: `node -e "console.error('the build broke'); process.exit(7)"`,
        slow: `node -e "console.log('still going'); setInterval(() => {}, 1000)"`,
      },
    }),
  );
  writeFileSync(
    join(app, 'opsctl.config.json'),
    JSON.stringify({
      packages: { backend: { path: 'backend', requiredEnv: [UNSET] } },
      pipelines: {
        ok: ['npm:backend:mark-a', 'doctor --only node-version', '"config" show', 'npm:backend:mark-b'],
        findings: ['npm:backend:mark-a', 'doctor --only env', 'npm:backend:mark-b'],
        broken: ['npm:backend:broken', 'npm:backend:mark-b'],
        mixed: ['doctor --only env', 'npm:backend:broken', 'npm:backend:mark-b'],
        'unknown-command': ['npm:backend:mark-a', 'deploi --dry-run'],
        'unknown-flag': ['npm:backend:mark-a', "doctor --only 'node-version' --frobnicate"],
        'unknown-script': ['npm:backend:mark-a', 'npm:backend:nope'],
        'unknown-package': ['npm:backend:mark-a', 'deploy bakend --dry-run'],
        'unknown-package-option': ['npm:backend:mark-a', 'status -p backend,bakend'],
        nested: ['npm:backend:mark-a', 'run ok'],
        'nested-behind-options': ['npm:backend:mark-a', '--yes -C . run nested-behind-options'],
        checks: ['doctor --only node-version', 'config show', 'doctor --only env'],
        deploy: ['deploy --dry-run', 'npm:backend:mark-a'],
        confirm: ['rollback', 'npm:backend:mark-a'],
        changes: ['migrate create "add users"', 'doctor --only node-version', 'npm:backend:mark-a'],
        bad: ['npm:backend:mark-a', 'audti', 'deploy | tee x', 'npm:backend:nope', 'status -p bakend'],
        reports: [
          'doctor --only node-version',
          'config show',
          'doctor --only env',
          'npm:backend:mark-a',
          'config show',
        ],
        slow: ['doctor --only node-version', 'npm:backend:slow', 'npm:backend:mark-b'],
      },
    }),
  );
});
afterAll(() => rmSync(app, { recursive: true, force: true }));

beforeEach(() => {
  marks = join(app, `marks-${Math.random().toString(36).slice(2)}.txt`);
});

const run = (args: string[], env: Record<string, string> = {}) =>
  opsctl(['run', ...args], { cwd: app, env: { MARKS: marks, ...env } });
const ran = () => (existsSync(marks) ? readFileSync(marks, 'utf8').split('\n').filter(Boolean) : []);

interface StepDoc {
  step: string;
  exitCode: number;
  durationMs: number;
  result: Record<string, unknown> | null;
}

describe('opsctl run <pipeline>', () => {
  it('runs the steps in order, each once, and exits 0 when all pass', async () => {
    const res = await run(['ok']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(ran()).toEqual(['a', 'b']);
    // the plain renderer's lines, in the pipeline's order
    const order = ['✔ npm:backend:mark-a', '✔ doctor --only node-version', '✔ "config" show', '✔ npm:backend:mark-b'];
    const at = order.map((line) => res.stderr.indexOf(line));
    expect(
      at.every((i) => i >= 0),
      res.stderr,
    ).toBe(true);
    expect([...at].sort((x, y) => x - y)).toEqual(at);
    expect(res.stderr).toContain('✔ pipeline ok: 4 passed, 0 failed (exit code 0)');
    // each step's own report is printed as the command alone would
    expect(res.stdout).toMatch(/✔ node-version {2}Node\.js/);
    // in plain lines doctor's check is said once, in its report, as when doctor runs alone (README, "Output")
    expect(`${res.stdout}${res.stderr}`.match(/Node\.js v?\d/g)).toHaveLength(1);
    expect(res.stdout).toContain(`root: ${app}`);
  });

  it('stops at the first failing step and exits with that step’s code', async () => {
    const findings = await run(['findings']);
    expect(findings.exitCode, findings.stderr).toBe(1);
    expect(ran()).toEqual(['a']); // mark-b never ran
    expect(findings.stderr).toContain('↓ npm:backend:mark-b: skipped: "doctor --only env" failed');
    expect(findings.stderr).toContain('1 passed, 1 failed, 1 not run (exit code 1)');

    const broken = await run(['broken']);
    expect(broken.exitCode).toBe(3);
    expect(broken.stderr).toContain('the build broke');
    expect(broken.stderr).toContain('✖ npm run broken in backend exited with 7.');
    expect(hasStackTrace(broken.stderr)).toBe(false);
  });

  it('--continue-on-error runs every step and exits with the worst code', async () => {
    const res = await run(['mixed', '--continue-on-error']);
    expect(res.exitCode, res.stderr).toBe(3);
    expect(ran()).toEqual(['b']);
    expect(res.stderr).toContain('1 passed, 2 failed (exit code 3)');
  });

  it('a step’s own tasks are nested under it: its lines read as when the command runs alone', async () => {
    const alone = await opsctl(['deploy', '--dry-run'], { cwd: app });
    expect(alone.exitCode, alone.stderr).toBe(0);
    const progress = alone.stderr.split('\n').filter((l) => /^[✔↓] /.test(l));
    expect(progress).toContain('↓ backend install: skipped (no dependencies)');
    const piped = await run(['deploy']);
    expect(piped.exitCode, piped.stderr).toBe(0);
    const lines = piped.stderr.split('\n');
    for (const line of progress) expect(lines).toContain(line);
    expect(lines.indexOf(progress.at(-1)!)).toBeLessThan(lines.indexOf('✔ npm:backend:mark-a'));
    const json = await run(['deploy', '--json']);
    const [deploy] = JSON.parse(json.stdout).steps as StepDoc[];
    expect(deploy!.result).toMatchObject({ command: 'deploy', ok: true, dryRun: true });
    expect((deploy!.result as { packages: Array<{ name: string }> }).packages.map((p) => p.name)).toEqual(['backend']);
  });

  it('--json prints one document with every step and its own document as result', async () => {
    const res = await run(['ok', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout); // exactly one document: anything else on stdout fails to parse
    expect(doc).toMatchObject({ command: 'run', pipeline: 'ok', ok: true, exitCode: 0, skipped: [] });
    expect(doc.durationMs).toBeGreaterThanOrEqual(0);
    const steps = doc.steps as StepDoc[];
    expect(steps.map((s) => [s.step, s.exitCode])).toEqual([
      ['npm:backend:mark-a', 0],
      ['doctor --only node-version', 0],
      ['"config" show', 0],
      ['npm:backend:mark-b', 0],
    ]);
    for (const s of steps) expect(s.durationMs).toBeGreaterThanOrEqual(0);
    expect(steps[1]!.result).toMatchObject({ command: 'doctor', ok: true, exitCode: 0 });
    expect((steps[1]!.result as { checks: Array<{ id: string }> }).checks.map((c) => c.id)).toEqual(['node-version']);
    expect(steps[2]!.result).toMatchObject({ command: 'config show', root: app });
    expect(steps[0]!.result).toMatchObject({ package: 'backend', script: 'mark-a', exitCode: 0 });
  });

  it('--json on a failure: the failing step’s document, the steps not run, the step’s exit code', async () => {
    const res = await run(['findings', '--json']);
    expect(res.exitCode).toBe(1);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ ok: false, exitCode: 1, skipped: ['npm:backend:mark-b'] });
    const env = doc.steps[1] as StepDoc;
    expect(env).toMatchObject({ step: 'doctor --only env', exitCode: 1, result: { command: 'doctor', exitCode: 1 } });
    expect(JSON.stringify(env.result)).toContain(UNSET);
  });

  it('runs every step in its own process: no new Node start per opsctl step', async () => {
    // every Node process started with this preload writes its pid down; npm steps start npm (and node) by design
    const preload = join(app, 'count-node.cjs');
    const starts = join(app, `starts-${Math.random().toString(36).slice(2)}.txt`);
    writeFileSync(preload, `require('fs').appendFileSync(${JSON.stringify(starts)}, process.pid + '\\n');\n`);
    const three = await opsctl(['run', 'checks', '--continue-on-error', '--json'], {
      cwd: app,
      env: { NODE_OPTIONS: `--require ${preload}` },
    });
    expect(three.exitCode, three.stderr).toBe(1);
    expect(JSON.parse(three.stdout).steps).toHaveLength(3);
    expect(readFileSync(starts, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('gives the pipeline’s global options to every step (--dry-run, -C, --json)', async () => {
    const res = await opsctl(['-C', app, 'run', 'ok', '--dry-run', '--json'], { env: { MARKS: marks } });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(ran()).toEqual([]); // npm steps are skipped under --dry-run
    const steps = JSON.parse(res.stdout).steps as StepDoc[];
    expect(steps[0]!.result).toMatchObject({ dryRun: true });
    expect(steps[2]!.result).toMatchObject({ command: 'config show', root: app });
  });

  it('--dry-run changes nothing: a step whose command has no dry run is skipped, not run for real', async () => {
    const res = await run(['changes', '--dry-run', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(existsSync(join(app, 'backend', 'migrations')), 'migrate create wrote a migration').toBe(false);
    expect(ran()).toEqual([]);
    const steps = JSON.parse(res.stdout).steps as StepDoc[];
    expect(steps.map((s) => [s.step, s.exitCode])).toEqual([
      ['migrate create "add users"', 0],
      ['doctor --only node-version', 0],
      ['npm:backend:mark-a', 0],
    ]);
    expect(steps[0]!.result).toEqual({ command: 'migrate create', dryRun: true, skipped: true });
    expect(steps[1]!.result).toMatchObject({ command: 'doctor', checks: [{ id: 'node-version' }] }); // it only reads
    const plain = await run(['changes', '--dry-run']);
    expect(plain.stderr).toContain('↓ migrate create "add users": dry run: would run opsctl migrate create');
    expect(plain.stderr).toContain('pipeline changes: 1 passed, 0 failed, 2 skipped (exit code 0)');
  });

  it('reports every bad step at once, in step order, in one message (exit 2)', async () => {
    const res = await run(['bad']);
    expect(res.exitCode, res.stderr).toBe(2);
    expect(ran()).toEqual([]);
    const lines = res.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^✖ pipelines\.bad\[1\] "audti": unknown command 'audti'/);
    expect(lines.slice(1, 4)).toEqual([
      '  pipelines.bad[2]: "deploy | tee x" is not a plain command line (|).',
      '  pipelines.bad[3]: package "backend" has no npm script "nope".',
      expect.stringMatching(/^ {2}pipelines\.bad\[4\] "status -p bakend": unknown package "bakend"\.$/),
    ]);
    expect(lines[4]).toMatch(/^→ /);
    const json = await run(['bad', '--json']);
    expect(json.exitCode).toBe(2);
    const doc = JSON.parse(json.stdout);
    expect(doc.error.message.split('\n  ')).toHaveLength(4);
  });

  it.each([
    ['unknown-command', /pipelines\.unknown-command\[1\] "deploi --dry-run": unknown command 'deploi'/],
    ['unknown-flag', /pipelines\.unknown-flag\[1\] .*unknown option '--frobnicate'/],
    ['unknown-script', /pipelines\.unknown-script\[1\]: package "backend" has no npm script "nope"/],
    ['unknown-package', /pipelines\.unknown-package\[1\] "deploy bakend --dry-run": unknown package "bakend"/],
    ['unknown-package-option', /pipelines\.unknown-package-option\[1\] .*: unknown package "bakend"/],
    ['nested', /runs a pipeline from a pipeline/],
    ['nested-behind-options', /pipelines\.nested-behind-options\[1\].*runs a pipeline from a pipeline/],
    ['missing', /Unknown pipeline "missing"/],
  ])('%s: exit 2 before any step runs', async (pipeline, message) => {
    const res = await run([pipeline]);
    expect(res.exitCode).toBe(2);
    expect(ran()).toEqual([]);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).toMatch(/^→ /m);
    expect(hasStackTrace(res.stderr)).toBe(false);
    const json = await run([pipeline, '--json']);
    expect(json.exitCode).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ command: 'run', ok: false, exitCode: 2, error: { code: 'USAGE' } });
  });

  it('under GitHub Actions folds each step’s output in a group and annotates failures', async () => {
    const res = await run(['mixed', '--continue-on-error'], { GITHUB_ACTIONS: 'true', DEPLOY_TOKEN: 'tok-8f3k2p9q' });
    expect(res.exitCode).toBe(3);
    // each secret is announced once, not once per step
    expect(res.stderr.match(/^::add-mask::tok-8f3k2p9q$/gm)).toHaveLength(1);
    const lines = res.stderr.split('\n');
    const groups = lines.filter((l) => l.startsWith('::group::'));
    expect(groups).toEqual([
      '::group::opsctl doctor --only env',
      '::group::opsctl npm:backend:broken',
      '::group::opsctl npm:backend:mark-b',
    ]);
    expect(lines.filter((l) => l === '::endgroup::')).toHaveLength(3);
    // the failing script's output is inside its group
    const start = lines.indexOf('::group::opsctl npm:backend:broken');
    const end = lines.indexOf('::endgroup::', start);
    expect(lines.slice(start, end).join('\n')).toContain('the build broke');
    expect(lines).toContain('::error title=opsctl run::Step "doctor --only env" failed with exit code 1.');
    expect(lines).toContain('::error title=opsctl run::Step "npm:backend:broken" failed with exit code 3.');
    expect(res.stderr).not.toContain('::error title=opsctl run::Step "npm:backend:mark-b"');
  });
});

it('run without a pipeline (and without --list) is a usage error', async () => {
  const res = await run([]);
  expect(res.exitCode).toBe(2);
  expect(res.stderr).toContain('✖ Name the pipeline to run.');
});

describe('opsctl run --list', () => {
  it('lists the pipelines and their steps, as text and JSON', async () => {
    const text = await run(['--list']);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/^ok +npm:backend:mark-a → doctor --only node-version → "config" show/m);
    const json = await run(['--list', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      command: 'run',
      ok: true,
      pipelines: { broken: ['npm:backend:broken', 'npm:backend:mark-b'] },
    });
  });
});

describe.skipIf(!hasScript)('on a terminal', () => {
  it('prints plain lines on a terminal too: no live view redrawn over the steps’ own reports', () => {
    const { exitCode, output } = runOnPty(app, ['run', 'ok'], { MARKS: marks });
    expect(exitCode, output).toBe(0);
    // no cursor moves up, no line erased: each line stays as printed
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI codes of a live renderer
    expect(output).not.toMatch(/\u001b\[\d*[AK]|\u001b\[\d*G/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes
    const screen = output.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
    expect(screen).toMatch(
      /^✔ node-version +Node\.js.*\n1 passed, 0 warned, 0 failed, 0 skipped\n✔ doctor --only node-version$/m,
    );
  });

  it('a step never prompts in a pipeline: it asks for --yes (exit 2) and the pipeline stops', () => {
    const { exitCode, output } = runOnPty(app, ['run', 'confirm'], { MARKS: marks });
    expect(exitCode, output).toBe(2);
    expect(output).toContain('→ Pass --yes to confirm');
    expect(ran()).toEqual([]);
  });
});

// The screen a person is left with (tmux emulates the terminal: every redraw and erase applied), not the bytes sent.
describe.skipIf(!hasTmux)('on a terminal: the final screen', () => {
  let session: TmuxSession | undefined;
  afterEach(() => {
    session?.kill();
    session = undefined;
  });
  const count = (screen: string, line: RegExp) => screen.split('\n').filter((l) => line.test(l)).length;

  it('shows each step’s report once, as the command alone prints it, and names the skipped steps', async () => {
    session = startTmux(app, ['run', 'reports'], { MARKS: marks });
    expect(await session.exited()).toBe(1);
    const screen = session.screen();
    // doctor's table rows and summary lines, each once per doctor step
    expect(count(screen, /^✔ node-version +Node\.js/), screen).toBe(1);
    expect(count(screen, /^✖ env +backend: OPSCTL_PIPELINE_TEST_NEVER_SET/), screen).toBe(1);
    expect(count(screen, /^1 passed, 0 warned, 0 failed, 0 skipped$/), screen).toBe(1);
    expect(count(screen, /^0 passed, 0 warned, 1 failed, 0 skipped$/), screen).toBe(1);
    // config show's report, once
    expect(count(screen, /^root: /), screen).toBe(1);
    // the skipped steps by name, in order, then the summary last
    const lines = screen.split('\n');
    const skipped = lines.filter((l) => l.startsWith('↓ '));
    expect(skipped, screen).toEqual([
      '↓ npm:backend:mark-a: skipped: "doctor --only env" failed',
      '↓ config show: skipped: "doctor --only env" failed',
    ]);
    expect(lines.at(-1)).toBe('✖ pipeline reports: 2 passed, 1 failed, 2 not run (exit code 1)');
    expect(screen).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏❯◼]/);
    expect(ran()).toEqual([]);
  });

  it('Ctrl-C in an npm step ends with ✖ Interrupted and no spinner left', async () => {
    session = startTmux(app, ['run', 'slow'], { MARKS: marks });
    await session.waitFor(/still going/);
    session.keys('C-c');
    expect(await session.exited()).toBe(130);
    const screen = session.screen();
    expect(screen).toMatch(/^(\^C)?✖ Interrupted\.$/m); // ^C: the terminal echoes the key
    expect(screen).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏❯◼]/);
    expect(count(screen, /^✔ node-version +Node\.js/), screen).toBe(1);
    expect(ran()).toEqual([]);
  });
});
