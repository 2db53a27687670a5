import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { BIN } from './cli.js';
import { waitFor } from './wait.js';

/** A running `opsctl watch`: its output so far, its JSON event lines, and how it ended. */
export interface WatchRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The JSON event lines printed so far (`--json`). */
  events(): Array<Record<string, unknown>>;
  waitForEvents(
    what: string,
    probe: (events: Array<Record<string, unknown>>) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
  /** Send a signal; resolves with the exit code and how long it took to exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

/** Start `opsctl -C dir watch ...args` with the caller's PM2_HOME, DATABASE_URL and REDIS_URL cleared. */
export function startWatch(dir: string, args: string[], env: Record<string, string> = {}): WatchRun {
  const child = spawn(process.execPath, [BIN, '-C', dir, 'watch', ...args], {
    env: { ...process.env, NO_COLOR: '1', PM2_HOME: '', DATABASE_URL: '', REDIS_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let errText = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (errText += c.toString()));
  const events = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    child,
    stdout: () => out,
    stderr: () => errText,
    events,
    waitForEvents: (what, probe, timeoutMs = 30_000) =>
      waitFor(`${what}; stdout: ${out}\nstderr: ${errText}`, () => probe(events()), timeoutMs),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return { code: child.exitCode, ms: 0 };
      const started = Date.now();
      const exited = once(child, 'exit');
      child.kill(signal);
      const [code] = (await exited) as [number | null];
      return { code, ms: Date.now() - started };
    },
  };
}

/** An HTTP receiver of the test's own: records each POST body; answers `statuses` in turn, then 200. */
export interface Receiver {
  url: string;
  bodies: Array<Record<string, unknown>>;
  /** Every request's answer, in order. */
  answers: number[];
  close(): Promise<void>;
}

export async function startReceiver(statuses: number[] = []): Promise<Receiver> {
  const bodies: Array<Record<string, unknown>> = [];
  const answers: number[] = [];
  const queue = [...statuses];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const status = queue.shift() ?? 200;
      answers.push(status);
      if (status < 300) bodies.push(JSON.parse(body) as Record<string, unknown>);
      res.statusCode = status;
      res.end(status < 300 ? 'ok' : 'failing on purpose');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    bodies,
    answers,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
