import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BIN } from '../helpers/cli.js';
import { makeInitApp } from '../helpers/init-app.js';
import { hasScript } from '../helpers/pty.js';
import { type PtySession, startPty } from '../helpers/pty-session.js';

if (!hasScript)
  console.warn('init-pty.test.ts: skipped, `script` (util-linux) is not installed to provide a pseudo-terminal');

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function session(args: string[]): { root: string; pty: PtySession } {
  const app = makeInitApp();
  const pty = startPty(app.root, ['init', ...args]);
  cleanups.push(
    () => pty.kill(),
    () => app.remove(),
  );
  return { root: app.root, pty };
}

describe.skipIf(!hasScript)('opsctl init on a terminal', () => {
  it('shows what it found and writes it when confirmed', async () => {
    const { root, pty } = session([]);
    await pty.waitFor(/Write opsctl\.config\.yaml with these values\?/);
    // the findings were on the screen before the question
    expect(pty.output()).toMatch(/port\s+4100\s+api\/src\/server\.js:3/);
    expect(existsSync(join(root, 'opsctl.config.yaml'))).toBe(false);
    pty.type('\r'); // the default: yes
    expect(await pty.exited()).toBe(0);
    expect(pty.output()).toContain('✔ written opsctl.config.yaml');
    expect(parse(readFileSync(join(root, 'opsctl.config.yaml'), 'utf8')).packages.api).toEqual({
      path: 'api',
      port: 4100,
      health: '/healthz',
    });
  });

  it('takes corrections typed at the prompts, and re-asks for a value that is not valid', async () => {
    const { root, pty } = session([]);
    await pty.waitFor(/these values\?/);
    pty.type('n');
    pty.type('\r');
    await pty.waitFor(/api: port/);
    pty.type('99999\r'); // not a port: asked again
    await pty.waitFor(/a port is a number from 1 to 65535/);
    for (let i = 0; i < 5; i++) pty.type('\u007f'); // backspace over it
    pty.type('4200\r');
    await pty.waitFor(/api: health check/);
    pty.type('\r'); // keep /healthz
    await pty.waitFor(/web: port/);
    pty.type('\r'); // keep 3100
    await pty.waitFor(/web: health check/);
    pty.type('tcp\r');
    await pty.waitFor(/Migrations folder/);
    for (const wrong of ['api/package.json', '..']) {
      // a file, or a folder outside the app: asked again
      for (let i = 0; i < 'api/migrations'.length; i++) pty.type('\u007f');
      pty.type(`${wrong}\r`);
      await pty.waitFor(new RegExp(`no folder "${wrong.replace('.', '\\.')}" in the app`));
      for (let i = 0; i < wrong.length; i++) pty.type('\u007f');
      pty.type('api/migrations');
    }
    pty.type('\r'); // api/migrations
    await pty.waitFor(/variable holding the database URL/);
    pty.type('\r'); // keep PG_URL
    await pty.waitFor(/variable holding the Redis URL/);
    pty.type('CACHE_URL\r');
    expect(await pty.exited()).toBe(0);
    const config = parse(readFileSync(join(root, 'opsctl.config.yaml'), 'utf8'));
    expect(config.packages).toEqual({
      api: { path: 'api', port: 4200, health: '/healthz' },
      shared: { path: 'shared' }, // no start script: nothing to ask
      web: { path: 'web', port: 3100, health: 'tcp' },
    });
    expect(config.database).toEqual({ url: '${PG_URL}', migrations: 'api/migrations' });
    expect(config.redis).toEqual({ url: '${CACHE_URL}' });
  });

  it('Ctrl-C at a prompt is exit 130 and writes nothing', async () => {
    const { root, pty } = session(['--scripts']);
    await pty.waitFor(/these values\?/);
    pty.type('\u0003');
    expect(await pty.exited()).toBe(130);
    expect(pty.output()).toContain('✖ Cancelled: nothing was written.');
    expect(existsSync(join(root, 'opsctl.config.yaml'))).toBe(false);
    expect(JSON.parse(readFileSync(join(root, 'api', 'package.json'), 'utf8')).scripts.migrate).toBeUndefined();
  });

  it('Ctrl-C under --json is one document with the code of an interrupt (INTERRUPTED)', async () => {
    const { root, pty } = session(['--json']);
    await pty.waitFor(/these values\?/);
    pty.type('\u0003');
    expect(await pty.exited()).toBe(130);
    // stdout and stderr share the terminal: the document is the text from its opening brace on
    const output = pty.output().replaceAll('\r', '');
    const doc = JSON.parse(output.slice(output.indexOf('{\n  "command"')));
    expect(doc).toMatchObject({ command: 'init', ok: false, exitCode: 130, error: { code: 'INTERRUPTED' } });
    expect(existsSync(join(root, 'opsctl.config.yaml'))).toBe(false);
  });

  it('SIGTERM at a prompt (a supervisor, a CI time-out) ends it: exit 143, nothing written', async () => {
    const { root, pty } = session(['--scripts']);
    await pty.waitFor(/these values\?/);
    const pid = opsctlPid(pty.pid());
    expect(pid, 'the opsctl process under the terminal').toBeDefined();
    process.kill(pid!, 'SIGTERM');
    expect(await pty.exited()).toBe(143);
    expect(pty.output()).toContain('✖ Terminated (SIGTERM): nothing was written.');
    expect(existsSync(join(root, 'opsctl.config.yaml'))).toBe(false);
    expect(JSON.parse(readFileSync(join(root, 'api', 'package.json'), 'utf8')).scripts.migrate).toBeUndefined();
  });

  it('a config written by someone else while the question is open is not overwritten (exit 2 naming it)', async () => {
    const { root, pty } = session([]);
    await pty.waitFor(/these values\?/);
    const theirs = 'packages:\n  api: { path: api, port: 4999 }\n';
    writeFileSync(join(root, 'opsctl.config.yaml'), theirs); // a second `opsctl init`, or a colleague
    pty.type('\r');
    expect(await pty.exited()).toBe(2);
    expect(pty.output()).toContain('opsctl.config.yaml appeared while opsctl init ran');
    expect(readFileSync(join(root, 'opsctl.config.yaml'), 'utf8')).toBe(theirs);
    expect(existsSync(join(root, 'opsctl.schema.json'))).toBe(false);
  });

  it('--yes asks nothing, on a terminal too', async () => {
    const { root, pty } = session(['--yes']);
    expect(await pty.exited()).toBe(0);
    expect(pty.output()).not.toContain('with these values?');
    expect(pty.output()).toContain('✔ written opsctl.config.yaml');
    expect(existsSync(join(root, 'opsctl.config.yaml'))).toBe(true);
  });
});

/** The opsctl process among the descendants of `pid` (`script` runs it under a shell on the terminal). */
function opsctlPid(pid: number | undefined): number | undefined {
  const queue = pid === undefined ? [] : [pid];
  while (queue.length) {
    const current = queue.shift()!;
    const cmdline = readProc(`/proc/${current}/cmdline`).split('\0');
    if (current !== pid && cmdline.includes(BIN)) return current;
    queue.push(...readProc(`/proc/${current}/task/${current}/children`).split(' ').filter(Boolean).map(Number));
  }
  return undefined;
}

function readProc(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
