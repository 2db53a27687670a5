import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ExitCode, OpsError } from '../errors.js';
import { redact } from '../output/redact.js';
import type { Runner, RunResult } from '../process/runner.js';
import { verifyHomeUsable, verifySocketPath } from './home.js';
import { secureLogs } from './logs.js';
import { type Pm2Instance, parseAppEnv, parseJlist } from './processes.js';

const PM2_TIMEOUT_MS = 60_000; // a reload waits for every instance to listen (PM2's listen_timeout each)
const PM2_QUERY_TIMEOUT_MS = 15_000; // jlist/ping answer in well under a second; a hung daemon must not hang us
/** The stamp of the daemon's own `pm2.log` (read from the daemon that this starts): with its UTC offset, like the apps'. */
const PM2_LOG_DATE_FORMAT = 'YYYY-MM-DDTHH:mm:ss.SSSZ';

export interface Pm2Snapshot {
  instances: Pm2Instance[];
  envOf(name: string): Record<string, string> | undefined;
}

/** The PM2 command line, bound to one PM2 home. Every call goes through the Runner. */
export interface Pm2 {
  home: string;
  jlist(): Promise<Pm2Instance[]>;
  /** One `jlist`: the instances and, for comparison only (never printed), each app's stored environment. */
  snapshot(): Promise<Pm2Snapshot>;
  /** Check the home, start the daemon if needed and check that it answers. */
  verifyStartable(): Promise<void>;
  start(ecosystemFile: string, env: Record<string, string>): Promise<void>;
  reload(ecosystemFile: string, env: Record<string, string>): Promise<void>;
  scale(name: string, instances: number): Promise<void>;
  action(verb: 'stop' | 'restart' | 'delete' | 'reload', names: string[], env?: Record<string, string>): Promise<void>;
  kill(): Promise<void>;
}

export function pm2Bin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('pm2/package.json')), 'bin', 'pm2');
}

export function createPm2(runner: Runner, home: string, cwd: string): Pm2 {
  const bin = pm2Bin();
  const run = async (args: string[], env: Record<string, string> = {}, timeoutMs = PM2_TIMEOUT_MS) => {
    verifySocketPath(home); // else the CLI starts a daemon that never answers
    return runner.run(process.execPath, [bin, ...args], {
      cwd,
      timeoutMs,
      env: { ...env, PM2_HOME: home, PM2_LOG_DATE_FORMAT, FORCE_COLOR: '0', NO_COLOR: '1' },
    });
  };
  const verify = (res: RunResult, what: string) => {
    if (res.exitCode === 0 && !res.timedOut) return res;
    verifyHomeUsable(home, cwd); // the usual cause, said plainly rather than as PM2's stack traces
    const detail = lastLines(`${res.stdout}\n${res.stderr}`, 5);
    throw new OpsError('PM2', `PM2 could not ${what}${res.timedOut ? ' (timed out)' : ''}: ${detail}`, {
      hint: `Check that PM2's home ${home} is writable (or set PM2_HOME), and read ${join(home, 'pm2.log')}.`,
      exitCode: ExitCode.failed,
    });
  };
  const jlistRaw = async () => verify(await run(['jlist'], {}, PM2_QUERY_TIMEOUT_MS), 'list its processes').stdout;
  return {
    home,
    async jlist() {
      return parseJlist(await jlistRaw());
    },
    async snapshot() {
      const raw = await jlistRaw();
      return { instances: parseJlist(raw), envOf: (name: string) => parseAppEnv(raw, name) };
    },
    async verifyStartable() {
      verifyHomeUsable(home, cwd);
      verify(await run(['ping'], {}, PM2_QUERY_TIMEOUT_MS), 'start its daemon');
      secureLogs(home);
    },
    async start(file, env) {
      verify(await run(['start', file], env), `start ${file}`);
      secureLogs(home); // a daemon this started wrote its pm2.log just now
    },
    async reload(file, env) {
      verify(await run(['reload', file, '--update-env'], env), `reload ${file}`);
    },
    async scale(name, instances) {
      verify(await run(['scale', name, String(instances)]), `scale ${name} to ${instances}`);
    },
    async action(verb, names, env) {
      const args = verb === 'reload' || verb === 'restart' ? ['--update-env'] : [];
      for (const name of names) verify(await run([verb, name, ...args], env), `${verb} ${name}`);
    },
    async kill() {
      verify(await run(['kill'], {}, PM2_QUERY_TIMEOUT_MS), 'stop its daemon');
    },
  };
}

function lastLines(text: string, n: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes from PM2's output
  const lines = redact(text.replace(/\u001b\[[0-9;]*m/g, ''))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.slice(-n).join(' | ') || 'no output';
}
