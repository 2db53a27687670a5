import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { IPty } from 'node-pty';
import * as pty from 'node-pty';
import { isProcessRunning } from '../../src/process/process-group.js';
import { BIN } from './cli.js';
import { freePort } from './tcp.js';
import { waitFor } from './wait.js';

/** A one-package app (`api`: an HTTP server on `port`) for `opsctl debug`; `files` adds or replaces files. */
export interface DebugApp {
  dir: string;
  port: number;
  /** A free port for the inspector, written nowhere: tests put it where they need it. */
  inspectPort: number;
}

/** The environment opsctl gets in these tests: the caller's PM2_HOME, DATABASE_URL and REDIS_URL cleared. */
export const CLEAN_ENV = { PM2_HOME: undefined, DATABASE_URL: undefined, REDIS_URL: undefined, NO_COLOR: '1' };

const SERVER = `const http = require('node:http');
const server = http.createServer((req, res) => res.end(req.url === '/health' ? 'ok' : String(process.pid)));
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('api listening on ' + process.env.PORT));
`;

export async function createDebugApp(
  options: { pkg?: Record<string, unknown>; config?: string; files?: Record<string, string> } = {},
): Promise<DebugApp> {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-debug-'));
  const port = await freePort();
  const inspectPort = await freePort();
  const files: Record<string, string> = {
    'opsctl.config.yaml': `packages:\n  api:\n    path: api\n    port: ${port}\n${options.config ?? ''}`,
    'api/package.json': JSON.stringify({
      name: 'api',
      version: '1.0.0',
      private: true,
      scripts: { start: 'node server.js' },
      ...options.pkg,
    }),
    'api/server.js': SERVER,
    ...options.files,
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return { dir, port, inspectPort };
}

export function removeApp(app: DebugApp): void {
  rmSync(app.dir, { recursive: true, force: true });
}

/** The built CLI as a child process with pipes (no terminal), its output collected. */
export interface Piped {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

export function startPiped(cwd: string, args: string[], env: Record<string, string | undefined> = {}): Piped {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...CLEAN_ENV, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** The built CLI on a real pseudo-terminal (node-pty), 100 × 30. */
export interface OnPty {
  term: IPty;
  output(): string;
  /** Wait until the terminal showed `text` (after `from`, an index into output()). */
  waitFor(text: string | RegExp, from?: number, timeoutMs?: number): Promise<void>;
  exited: Promise<number>;
}

export function startOnPty(
  cwd: string,
  args: string[],
  env: Record<string, string | undefined> = {},
  nodeArgs: string[] = [],
): OnPty {
  const { CI: _ci, GITHUB_ACTIONS: _gha, ...base } = process.env;
  const term = pty.spawn(process.execPath, [...nodeArgs, BIN, ...args], {
    name: 'xterm-256color',
    cols: 100,
    rows: 30,
    cwd,
    env: definedOnly({ ...base, ...CLEAN_ENV, TERM: 'xterm-256color', ...env }),
  });
  let output = '';
  term.onData((d) => (output += d));
  const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
  return {
    term,
    output: () => output,
    waitFor: (text, from = 0, timeoutMs = 30_000) =>
      waitFor(
        `the terminal to show ${String(text)}; it showed:\n${output.slice(-2000)}`,
        () => (typeof text === 'string' ? output.indexOf(text, from) >= 0 : text.test(output.slice(from))),
        timeoutMs,
      ).catch(() => {
        throw new Error(`timed out waiting for ${String(text)}; the terminal showed:\n${output.slice(-2000)}`);
      }),
    exited,
  };
}

/** node-pty would pass an undefined value on as the text "undefined": a cleared variable is left out instead. */
function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Every live descendant of `pid` (from /proc), so a test can check that the whole tree is gone afterwards. */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z') parents.set(Number(entry), Number(fields[1]));
    } catch {
      // exited while we looked
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const current = queue.shift()!;
    for (const [child, parent] of parents) {
      if (parent === current) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** A process that is gone, or a zombie (a process that has exited and waits for its parent to reap it). */
export function isGone(pid: number): boolean {
  if (!isProcessRunning(pid)) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** The pid opsctl names in `✔ api (pid 1234) has its inspector on …` or `exec process.pid` answers. */
export function pidIn(text: string, pattern: RegExp): number {
  const match = pattern.exec(text);
  if (!match) throw new Error(`no pid matching ${pattern} in:\n${text}`);
  return Number(match[1]);
}
