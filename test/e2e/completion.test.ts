import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, opsctl } from '../helpers/cli.js';

const has = (shell: string) => spawnSync(shell, ['-c', 'exit 0']).status === 0;
const SHELLS = { bash: has('bash'), zsh: has('zsh'), fish: has('fish') };
for (const [shell, found] of Object.entries(SHELLS)) if (!found) console.warn(`completion.test.ts: no ${shell}`);

let app: string;
let scripts: Record<'bash' | 'zsh' | 'fish', string>;
let bin: string; // holds an `opsctl` the scripts call, as an installed one would be

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'opsctl-completion-'));
  for (const name of ['backend', 'frontend']) {
    mkdirSync(join(app, name));
    writeFileSync(join(app, name, 'package.json'), JSON.stringify({ name, scripts: { start: 'node x' } }));
  }
  writeFileSync(
    join(app, 'opsctl.config.json'),
    JSON.stringify({
      packages: { backend: { path: 'backend' }, 'storefront-web': { path: 'frontend' } },
      pipelines: { release: ['doctor'], nightly: ['audit'] },
    }),
  );
  bin = join(app, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'opsctl'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(bin, 'opsctl'), 0o755);
  scripts = { bash: '', zsh: '', fish: '' };
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    const res = await opsctl(['completion', shell]);
    expect(res.exitCode, res.stderr).toBe(0);
    scripts[shell] = join(app, `completion.${shell}`);
    writeFileSync(scripts[shell], res.stdout);
  }
});
afterAll(() => rmSync(app, { recursive: true, force: true }));

/** Run a shell's code in the app's folder with our opsctl first on PATH; its stdout lines. */
function inShell(shell: string, args: string[], code: string): string[] {
  const res = spawnSync(shell, [...args, code], {
    cwd: app,
    env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}` },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(res.status, res.stderr).toBe(0);
  return res.stdout.split('\n').filter(Boolean);
}

describe('opsctl completion <shell>', () => {
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    it.skipIf(!SHELLS[shell])(`the ${shell} script is valid for its shell (${shell} -n)`, () => {
      const res = spawnSync(shell, ['-n', scripts[shell]], { encoding: 'utf8' });
      expect(res.status, res.stderr).toBe(0);
    });
  }

  it('an unknown shell is a usage error (exit 2)', async () => {
    const res = await opsctl(['completion', 'tcsh']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toMatch(/Allowed choices are bash, zsh, fish/);
  });
});

describe.skipIf(!SHELLS.bash)('bash completion (a real bash)', () => {
  const complete = (...words: string[]) =>
    inShell(
      'bash',
      ['-c'],
      [
        `source ${scripts.bash}`,
        `COMP_WORDS=(opsctl ${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}`,
        '_opsctl_complete',
        'printf "%s\\n" "${COMPREPLY[@]}"',
      ].join('\n'),
    );

  it('completes package names for a package argument and for -p', () => {
    expect(complete('deploy', 'st')).toEqual(['storefront-web']);
    expect(complete('deploy', '').sort()).toEqual(['backend', 'storefront-web']);
    expect(complete('-p', 'b')).toEqual(['backend']);
    expect(complete('status', '--package', '')).toContain('storefront-web');
  });

  it('completes pipeline names after run, commands and their options', () => {
    expect(complete('run', '').sort()).toEqual(['nightly', 'release']);
    expect(complete('dep')).toEqual(['deploy']);
    expect(complete('troub')).toEqual(['troubleshoot']);
    expect(complete('migrate', 'cr')).toEqual(['create']);
    expect(complete('run', '--c')).toEqual(expect.arrayContaining(['--continue-on-error', '--cwd', '--config']));
    expect(complete('completion', '')).toEqual(['bash', 'zsh', 'fish']);
  });
});

describe.skipIf(!SHELLS.fish)('fish completion (a real fish)', () => {
  it('completes package and pipeline names with descriptions', () => {
    const code = (line: string) => `source ${scripts.fish}; complete -C '${line}'`;
    expect(inShell('fish', ['-c'], code('opsctl deploy b'))).toEqual(['backend\tpackage']);
    expect(inShell('fish', ['-c'], code('opsctl run n'))).toEqual(['nightly\tpipeline']);
  });
});

describe.skipIf(!SHELLS.zsh)('zsh completion (a real zsh, completion system stubbed)', () => {
  it('hands the candidates with descriptions to _describe', () => {
    // outside an interactive completion, _describe and compdef are stubbed to print what they are given
    const code = [
      'compdef() {}; _describe() { print -l -- "${(@P)${@[-1]}}" }; _files() { print FILES }',
      `source ${scripts.zsh}`,
      "words=(opsctl deploy ''); CURRENT=3; _opsctl",
      "words=(opsctl -C /nowhere deploy ''); CURRENT=5; _opsctl",
    ].join('\n');
    expect(inShell('zsh', ['-f', '-c'], code)).toEqual(['backend:package', 'storefront-web:package', 'FILES']);
  });
});

describe('completion follows the command table', () => {
  it('offers every command, and every option of each command (its own and the global ones)', async () => {
    const { buildProgram } = await import('../../commands/index.js');
    type Node = {
      name(): string;
      commands: readonly Node[];
      options: ReadonlyArray<{ long?: string; hidden: boolean }>;
      parent: Node | null;
    };
    const program = buildProgram() as unknown as Node;
    const top = await opsctl(['__complete', 'bash', '--', '']);
    expect(top.stdout.split('\n')).toEqual(expect.arrayContaining(program.commands.map((c) => c.name())));
    const walk = (c: Node, path: string[]): string[][] => [
      path,
      ...c.commands.flatMap((sub) => walk(sub, [...path, sub.name()])),
    ];
    for (const path of walk(program, []).slice(1)) {
      const res = await opsctl(['__complete', 'bash', '--', ...path, '--'], { cwd: app });
      let node = program;
      for (const name of path) node = node.commands.find((c) => c.name() === name)!;
      const expected: string[] = [];
      for (let c: Node | null = node; c; c = c.parent) {
        for (const o of c.options) if (o.long && !o.hidden) expected.push(o.long);
      }
      expect(res.stdout.split('\n'), path.join(' ')).toEqual(expect.arrayContaining(expected));
    }
  }, 120_000);
});
