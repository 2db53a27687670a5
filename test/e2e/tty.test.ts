import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasScript, onPty as onPtyIn } from '../helpers/pty.js';

if (!hasScript)
  console.warn('tty.test.ts: skipped, `script` (util-linux) is not installed to provide a pseudo-terminal');

let app: string;
beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'opsctl-tty-'));
  mkdirSync(join(app, 'backend'));
  writeFileSync(
    join(app, 'backend', 'package.json'),
    JSON.stringify({ name: 'backend', scripts: { start: 'node x' } }),
  );
});
afterAll(() => rmSync(app, { recursive: true, force: true }));

const onPty = (args: string[], env: Record<string, string | undefined> = {}) => onPtyIn(app, args, env);

const CURSOR_HIDE = '\u001b[?25l';
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
const stripAnsi = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');

describe.skipIf(!hasScript)('on a terminal', () => {
  it('shows listr2 live progress, clears it, then prints the report in colour', () => {
    const output = onPty(['doctor', '--only', 'config', 'node-version']);
    expect(output).toContain(CURSOR_HIDE); // the live renderer took the terminal
    expect(output).toContain('\u001b[32m✔\u001b[39m config        zero config; 1 package: backend');
    expect(output).toMatch(/2 passed, 0 warned, 0 failed, 0 skipped/);
  });

  it('uses plain lines when CI is set, even on a terminal', () => {
    const output = onPty(['doctor', '--only', 'config'], { CI: 'true' });
    expect(output).not.toContain(CURSOR_HIDE);
    // the report once: no progress line repeating it (README, "Output")
    expect(stripAnsi(output)).toContain('✔ config  zero config; 1 package: backend\r\n');
    expect(stripAnsi(output).match(/zero config/g)).toHaveLength(1);
  });

  it('drops colour under --no-color and NO_COLOR', () => {
    for (const output of [
      onPty(['doctor', '--only', 'config', '--no-color']),
      onPty(['doctor', '--only', 'config'], { NO_COLOR: '1' }),
    ]) {
      expect(output).toContain('✔ config  zero config; 1 package: backend');
      expect(stripAnsi(output)).toBe(output); // no colour or style codes at all
    }
  });
});
