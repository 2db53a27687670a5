import { lookup } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { ExitCode, OpsError, usageError } from '../errors.js';
import { isLoopback } from '../net/address.js';
import { DEFAULT_INSPECT_HOST, parseInspectFlags } from '../net/inspect-flags.js';
import type { AppPackage } from '../packages/types.js';
import { startCommand } from '../pm2/ecosystem.js';

/** How `opsctl debug` starts a package (README, "`opsctl debug`"). */
export type DebugLaunch =
  | {
      kind: 'script';
      command: 'npm';
      args: string[];
      /** The script's own `--inspect` address, when it names a port (checked for a holder before the start). */
      inspect?: { host: string; port: number };
      script: string;
    }
  | { kind: 'entry'; command: string; args: string[]; inspect: { host: string; port: number }; entry: string };

export interface LaunchOptions {
  /** `--host`: given explicitly, the only way to bind the inspector beyond loopback. */
  host?: string;
  /** `--port`, else the package's `debugPort`, else `freePort()`. */
  port?: number;
  freePort(): Promise<number>;
}

/**
 * The package's `debug` script when it has one (its inspector address is learned from its output), else
 * `node --inspect=<host>:<port> <entry>`: `main`, or the file of a `node <file>` start script.
 */
export async function planLaunch(pkg: AppPackage, options: LaunchOptions): Promise<DebugLaunch> {
  const script = pkg.scripts.debug;
  if (script !== undefined) {
    if (options.host !== undefined || options.port !== undefined) {
      throw usageError(
        `${pkg.name} has a debug script (\`${script}\`), which sets the inspector's address itself; --host and --port apply to \`node --inspect\` only.`,
        `Change the address in ${pkg.path}/package.json's debug script, or leave out --host and --port.`,
      );
    }
    return { kind: 'script', command: 'npm', args: ['run', 'debug'], inspect: scriptInspect(script), script };
  }
  const entry = entryPoint(pkg);
  if (options.host !== undefined) await verifyHost(options.host);
  const host = options.host ?? DEFAULT_INSPECT_HOST;
  const port = options.port ?? pkg.debugPort ?? (await options.freePort());
  if (port === pkg.port) {
    throw usageError(
      `The inspector port ${port} is ${pkg.name}'s own port (packages.${pkg.name}.port): they cannot share it.`,
      `Give --port another port (or packages.${pkg.name}.debugPort; 9229 is the usual one).`,
    );
  }
  return {
    kind: 'entry',
    command: process.execPath,
    args: [`--inspect=${host.includes(':') ? `[${host}]` : host}:${port}`, entry],
    inspect: { host, port },
    entry,
  };
}

/**
 * `--host` must be an IP address or a name that resolves: given anything else, Node prints `Unable to resolve` and
 * runs the package on without an inspector (README, "`opsctl debug`").
 */
async function verifyHost(host: string): Promise<void> {
  if (isIP(host)) return;
  const why = host.trim()
    ? await lookup(host).then(
        () => undefined,
        (error: NodeJS.ErrnoException) => error.code ?? 'no answer',
      )
    : 'empty';
  if (!why) return;
  throw usageError(
    `--host ${JSON.stringify(host)} is not an address or a host name that resolves (${why}).`,
    'Give an IP address of this host (127.0.0.1 is the default; 0.0.0.0 is every interface), or leave out --host.',
  );
}

/** `main`, else the file a `node <file>` start script runs; it must exist (a usage error otherwise: exit 2). */
export function entryPoint(pkg: AppPackage): string {
  const start = startCommand(pkg);
  const entry = pkg.main ?? (start?.cluster ? start.script : undefined);
  const where = `${pkg.path}/package.json`;
  if (!entry) {
    throw usageError(
      `${pkg.name} has no entry point to debug: no debug script, no "main", and no \`node <file>\` start script in ${where}.`,
      `Add a "debug" script (\`node --inspect=127.0.0.1:9229 server.js\`) or "main" to ${where}.`,
    );
  }
  if (!existsSync(join(pkg.dir, entry))) {
    throw new OpsError('NO_ENTRY', `${pkg.name}'s entry point ${join(pkg.path, entry)} does not exist.`, {
      hint: `Build the package first, or fix "main" in ${where}.`,
      exitCode: ExitCode.usage,
    });
  }
  return entry;
}

/** The inspector address a debug script asks for (`node --inspect=127.0.0.1:9229 server.js`), when it names a port. */
function scriptInspect(script: string): { host: string; port: number } | undefined {
  const words = script.trim().split(/\s+/);
  const node = words.findIndex((w) => /(^|\/)node$/.test(w));
  if (node < 0) return undefined;
  const flag = parseInspectFlags(words.slice(node + 1));
  return flag?.atStart && flag.port ? { host: flag.host, port: flag.port } : undefined;
}

/** The warning `--host` (or a debug script) earns when the inspector is reachable from the network (README, "Safety"). */
export function exposureWarning(pkg: string, host: string, port: number): string | undefined {
  if (isLoopback(host)) return undefined;
  return (
    `The inspector of ${pkg} listens on ${host}:${port}: anyone who can reach that address can run any code in the ` +
    "process, with its permissions and secrets. Prefer 127.0.0.1 and an SSH tunnel; doctor's `inspector` check fails while it is open."
  );
}
