import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace } from '../helpers/cli.js';
import { createPm2App, type Pm2App } from '../helpers/pm2-app.js';
import { hasScript, runOnPty } from '../helpers/pty.js';

/**
 * A failed start explains itself in every renderer (README, "`opsctl deploy`"): the app's last log lines, redacted,
 * naming the source file rather than the release copy, also when the process printed its error and exited at once
 * (PM2 cluster mode used to lose those lines).
 */

const SECRET = `sess-${process.pid}-Qw8e`;
// printed and exited at once, in cluster mode (`node server.js`): no event-loop turn in between
const EXITS_AT_ONCE = [
  'const secret = process.env.SESSION_SECRET;',
  "console.error(new Error('cannot start with ' + secret).stack);",
  'process.exit(1);',
  '',
].join('\n');

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
const COLOUR = /\u001b\[[0-9;]*m/;

let app: Pm2App;
beforeAll(async () => {
  app = await createPm2App('fail-output', {
    files: { 'api/server.js': EXITS_AT_ONCE, '.env': `SESSION_SECRET=${SECRET}\n` },
  });
});
afterAll(() => app?.cleanup());

/** The app's lines as they must be shown: the error redacted, its frame in the source tree (`api/server.js:2`). */
function expectAppLines(text: string): void {
  expect(text).not.toContain(SECRET);
  expect(text).toContain('Error: cannot start with ****');
  expect(text).toMatch(/at .*\(api\/server\.js:2:\d+\)/);
  expect(text).not.toContain('.opsctl/releases');
}

describe('a start that fails: its last log lines in every output', () => {
  it('without a terminal (CI): printed under "Last log lines of api", and the hint says so', async () => {
    const res = await app.run(['deploy', '--health-timeout', '15000'], { CI: 'true' });
    expect(res.exitCode, res.stderr).toBe(3);
    expect(res.stdout + res.stderr).not.toContain(SECRET);
    const shown = res.stderr.slice(res.stderr.indexOf('Last log lines of api:'));
    expect(res.stderr).toContain('Last log lines of api:');
    expectAppLines(shown);
    expect(res.stderr).toMatch(/✖ api: health gate failed: instance \d+ (crashed and was restarted|is \w+)/);
    expect(res.stderr).toContain('→ Its last log lines are shown above; `opsctl logs api` shows more.');
    expect(hasStackTrace(res.stderr.replace(/^ {2}.*$/gm, ''))).toBe(false); // the app's own trace is indented
  });

  it('--json: the failed step carries the lines as `logTail`', async () => {
    const res = await app.run(['deploy', '--json', '--health-timeout', '15000']);
    expect(res.exitCode, res.stderr).toBe(3);
    expect(res.stdout + res.stderr).not.toContain(SECRET);
    const doc = JSON.parse(res.stdout) as {
      packages: Array<{ name: string; steps: Array<{ step: string; status: string; logTail?: string[] }> }>;
      error: { code: string; hint: string };
    };
    const steps = doc.packages.find((p) => p.name === 'api')!.steps;
    const failed = steps.find((s) => s.status === 'failed')!;
    expect(failed.step).toBe('health');
    expect(failed.logTail?.length).toBeGreaterThan(0);
    expectAppLines(failed.logTail!.join('\n'));
    for (const s of steps.filter((s) => s !== failed)) expect(s.logTail).toBeUndefined();
    expect(doc.error.code).toBe('HEALTH');
    expect(doc.error.hint).not.toContain('shown above');
    expect(doc.error.hint).toContain('logTail');
  });

  it('`opsctl logs api` has the message the process printed before it exited', async () => {
    const res = await app.run(['logs', 'api', '--lines', '50']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).not.toContain(SECRET);
    expect(res.stdout).toContain('Error: cannot start with ****');
  });

  it.skipIf(!hasScript)('on a terminal (listr2 live renderer): the lines are shown, in colour', () => {
    const { exitCode, output } = runOnPty(app.dir, ['-C', app.dir, 'deploy', '--health-timeout', '15000']);
    expect(exitCode, output).toBe(3);
    expect(output).not.toContain(SECRET);
    expect(output).toMatch(ANSI);
    const plain = output.replace(ANSI, '');
    expect(plain).toContain('Last log lines of api:');
    expectAppLines(plain.slice(plain.indexOf('Last log lines of api:')));
    expect(plain).toContain('→ Its last log lines are shown above; `opsctl logs api` shows more.');
  });

  it.skipIf(!hasScript)('on a terminal with --no-color: the same lines, no colour codes', () => {
    const { exitCode, output } = runOnPty(app.dir, [
      '-C',
      app.dir,
      'deploy',
      '--no-color',
      '--health-timeout',
      '15000',
    ]);
    expect(exitCode, output).toBe(3);
    expect(output).not.toContain(SECRET);
    expect(output).not.toMatch(COLOUR);
    expect(output).toContain('Last log lines of api:');
    expectAppLines(output.slice(output.indexOf('Last log lines of api:')));
    expect(output).toContain('→ Its last log lines are shown above; `opsctl logs api` shows more.');
  });
});

describe('a start that fails without writing a line', () => {
  it('does not claim lines were shown: it says where to look', async () => {
    const silent = await createPm2App('fail-silent', { files: { 'api/server.js': 'process.exit(1);\n' } });
    try {
      const res = await silent.run(['deploy', '--health-timeout', '15000'], { CI: 'true' });
      expect(res.exitCode, res.stderr).toBe(3);
      expect(res.stderr).not.toContain('Last log lines of api:');
      expect(res.stderr).not.toContain('shown above');
      expect(res.stderr).toContain(
        `→ It wrote no log lines; PM2's own log (${silent.dir}/.opsctl/pm2/pm2.log) may say why, and \`opsctl logs api\` shows any written since.`,
      );
      const json = JSON.parse((await silent.run(['deploy', '--json', '--health-timeout', '15000'])).stdout);
      expect(json.error.hint).not.toContain('shown above');
      expect(json.error.hint).toContain('It wrote no log lines');
    } finally {
      silent.cleanup();
    }
  });
});

describe('a release whose code fails to load (an ES module importing a missing file)', () => {
  it('names the source files in the message, the step reason and the log lines, not the release copy', async () => {
    const esm = await createPm2App('fail-import', {
      files: {
        'api/package.json': JSON.stringify({
          name: 'api',
          version: '1.0.0',
          private: true,
          type: 'module',
          scripts: { start: 'node server.js' },
        }),
        'api/server.js': "import './missing.js';\n",
      },
    });
    try {
      const res = await esm.run(['deploy', '--json', '--health-timeout', '15000']);
      expect(res.exitCode, res.stderr).toBe(3);
      const doc = JSON.parse(res.stdout);
      expect(doc.error.message).toMatch(/failed to load its code \(.*Cannot find module 'api\/missing\.js'/);
      expect(doc.error.message).toContain('imported from api/server.js');
      const failed = doc.packages[0].steps.find((s: { status: string }) => s.status === 'failed');
      expect(failed.reason).toBe(doc.error.message);
      expect(failed.logTail.join('\n')).toContain("Cannot find module 'api/missing.js'");
      expect(res.stdout).not.toContain('.opsctl/releases');
    } finally {
      esm.cleanup();
    }
  });
});

describe('`restart` into a release that exits without a word', () => {
  it('says it wrote no log lines and names PM2’s own log', async () => {
    const server = [
      'if (process.env.CRASH) process.exit(1);',
      "require('node:http').createServer((_q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');",
      '',
    ].join('\n');
    const quiet = await createPm2App('restart-silent', { files: { 'api/server.js': server } });
    try {
      expect((await quiet.run(['deploy'])).exitCode).toBe(0);
      const config = join(quiet.dir, 'opsctl.config.yaml');
      writeFileSync(config, `${readFileSync(config, 'utf8')}    env:\n      CRASH: "1"\n`);
      const res = await quiet.run(['restart', 'api', '--json']);
      expect(res.exitCode, res.stderr).toBe(3);
      const error = JSON.parse(res.stdout).error as { message: string; hint: string };
      expect(error.message).not.toContain('Its last log lines');
      expect(error.hint).toBe(
        `It wrote no log lines; PM2's own log (${quiet.dir}/.opsctl/pm2/pm2.log) may say why, and \`opsctl logs api\` shows any written since.`,
      );
    } finally {
      quiet.cleanup();
    }
  });
});
