import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ExitCode, OpsError } from '../errors.js';
import { freePort, isPortFree, pickPort } from '../net/free-port.js';
import { addSecret, redact } from '../output/redact.js';
import type { Runner } from '../process/runner.js';
import { readPgBinaries } from './binaries.js';
import { withEmbeddedLock } from './embedded-lock.js';
import {
  type EmbeddedPaths,
  type EmbeddedState,
  embeddedPaths,
  embeddedUrl,
  readEmbeddedState,
  writeEmbeddedState,
} from './embedded-state.js';
import { ensureDatabase, initialiseCluster, isInitialised, lastLines } from './init-cluster.js';
import { ensureServerUser, isRoot, readServerUser, type ServerUser, verifyTraversable } from './os-user.js';
import { isPostmasterRunning, removeStaleLockFiles, waitForLeftovers } from './postmaster.js';
import { writeServerConf } from './server-conf.js';

/** Preferred port: next to 5432 so it is recognisable, unlikely to clash with a system PostgreSQL. */
export const DEFAULT_EMBEDDED_PORT = 54329;
const DEFAULT_DATABASE = 'app';
const SUPERUSER = 'postgres';
const START_WAIT_S = 60; // first start after initdb can be slow on a busy CI machine
const STOP_WAIT_S = 30;
const PG_CTL_MARGIN_MS = 10_000; // pg_ctl's own -t bound hits first; this only catches a hung pg_ctl
const LOG_TAIL_LINES = 20;
const LEFTOVER_WAIT_MS = 10_000; // backends of a crashed server exit within moments of noticing
const PRIVATE_DIR_MODE = isRoot() ? 0o711 : 0o700;
/** How long a start or stop waits for another one: longer than initdb plus a start ever takes. */
const LOCK_WAIT_MS = 180_000;

export interface EmbeddedDeps {
  /** The app root; the cluster lives in `<root>/.opsctl/pg`. */
  root: string;
  runner: Runner;
  /** Port to prefer on first start (default 54329); 0 takes any free port. */
  preferredPort?: number;
  /** Progress for people (stderr); never results. */
  onProgress?: (message: string) => void;
}

/** What `startEmbedded` did. */
export interface StartResult {
  alreadyRunning: boolean;
  /** initdb ran (first start). */
  initialised: boolean;
  createdDatabase: boolean;
  /** A postmaster.pid left by a crash was removed. */
  staleRemoved: boolean;
  /** Set when the recorded port was taken and another one was chosen. */
  previousPort?: number;
  port: number;
  dataDir: string;
  url: string;
}

/** What `opsctl db status` shows. */
export interface EmbeddedStatus {
  running: boolean;
  initialised: boolean;
  port?: number;
  dataDir: string;
  url?: string;
}

export function readEmbeddedStatus(root: string): EmbeddedStatus {
  const paths = embeddedPaths(root);
  const state = readEmbeddedState(root);
  return {
    running: isInitialised(paths) && isPostmasterRunning(paths.dataDir),
    initialised: isInitialised(paths),
    port: state?.port,
    dataDir: paths.dataDir,
    url: state ? embeddedUrl(state) : undefined,
  };
}

/**
 * Initialise (first time) and start the embedded cluster; the server outlives this process. Under the
 * cluster's lock file: a second start at the same time waits, then finds it running.
 */
export async function startEmbedded(deps: EmbeddedDeps): Promise<StartResult> {
  const paths = embeddedPaths(deps.root);
  verifyShellSafe(paths.dir);
  makePrivateDir(paths);
  return withEmbeddedLock(paths.dir, 'start', lockOptions(deps), () => startLocked(deps, paths));
}

async function startLocked(deps: EmbeddedDeps, paths: EmbeddedPaths): Promise<StartResult> {
  let state = readEmbeddedState(deps.root);
  const result = (extra: Partial<StartResult>, s: EmbeddedState): StartResult => ({
    alreadyRunning: false,
    initialised: false,
    createdDatabase: false,
    staleRemoved: false,
    ...extra,
    port: s.port,
    dataDir: paths.dataDir,
    url: embeddedUrl(s),
  });
  if (state && isInitialised(paths) && isPostmasterRunning(paths.dataDir))
    return result({ alreadyRunning: true }, state);
  if (!state && isInitialised(paths)) {
    throw new OpsError(
      'DB_STATE_MISSING',
      `${paths.stateFile} is missing, so the password of the cluster in ${paths.dataDir} is unknown.`,
      {
        hint: `Restore that file, or delete ${paths.dir} to start over with an empty database.`,
        exitCode: ExitCode.failed,
      },
    );
  }
  const user = await ensureServerUser(deps.runner);
  verifyTraversable(paths.dir, user);

  let initialised = false;
  if (!state || !isInitialised(paths)) {
    state = {
      port: await pickPort(state?.port ?? deps.preferredPort ?? DEFAULT_EMBEDDED_PORT),
      user: SUPERUSER,
      password: state?.password ?? randomBytes(18).toString('base64url'),
      database: DEFAULT_DATABASE,
    };
    addSecret(state.password);
    writeEmbeddedState(deps.root, state);
    deps.onProgress?.(`Initialising a new PostgreSQL cluster in ${paths.dataDir}`);
    await initialiseCluster(paths, state, deps.runner, user);
    initialised = true;
  }
  prepareFiles(paths, user);
  const staleRemoved = removeStaleLockFiles(paths.dataDir, paths.socketDir);
  if (staleRemoved) {
    deps.onProgress?.('Removed a stale postmaster.pid left by a crash');
    await waitForLeftovers(paths.dataDir, LEFTOVER_WAIT_MS);
  }

  let previousPort: number | undefined;
  if (!(await isPortFree(state.port))) {
    previousPort = state.port;
    state = { ...state, port: await freePort() };
    writeEmbeddedState(deps.root, state);
    deps.onProgress?.(`Port ${previousPort} is taken; using ${state.port}`);
  }
  writeServerConf(paths, state.port, user);
  deps.onProgress?.(`Starting PostgreSQL on 127.0.0.1:${state.port}`);
  await runPgCtl(
    deps.runner,
    user,
    paths,
    ['start', '-w', '-t', String(START_WAIT_S), '-l', paths.logFile],
    START_WAIT_S,
    (res) => {
      throw new OpsError(
        'DB_START',
        `The embedded PostgreSQL did not start${res.timedOut ? ' in time' : ''} (pg_ctl exit ${res.exitCode}).`,
        {
          hint: `Last lines of ${paths.logFile}:\n${redact(lastLines(readLog(paths), LOG_TAIL_LINES) || res.stderr || res.stdout)}`,
          exitCode: ExitCode.failed,
        },
      );
    },
  );
  const createdDatabase = await ensureDatabase(state);
  return result({ initialised, createdDatabase, staleRemoved, previousPort }, state);
}

/** Stop the embedded cluster (fast shutdown: open sessions are ended). Returns whether it was running. */
export async function stopEmbedded(deps: EmbeddedDeps): Promise<{ wasRunning: boolean }> {
  const paths = embeddedPaths(deps.root);
  if (!existsSync(paths.dir)) return { wasRunning: false };
  return withEmbeddedLock(paths.dir, 'stop', lockOptions(deps), () => stopLocked(deps, paths));
}

async function stopLocked(deps: EmbeddedDeps, paths: EmbeddedPaths): Promise<{ wasRunning: boolean }> {
  if (!isInitialised(paths) || !isPostmasterRunning(paths.dataDir)) return { wasRunning: false };
  const user = (await readServerUser(deps.runner)) ?? {};
  deps.onProgress?.('Stopping PostgreSQL');
  await runPgCtl(
    deps.runner,
    user,
    paths,
    ['stop', '-m', 'fast', '-w', '-t', String(STOP_WAIT_S)],
    STOP_WAIT_S,
    (res) => {
      throw new OpsError('DB_STOP', `The embedded PostgreSQL did not stop (pg_ctl exit ${res.exitCode}).`, {
        hint: `pg_ctl said: ${redact((res.stderr || res.stdout).trim())}\nLook at ${paths.logFile}.`,
        exitCode: ExitCode.failed,
      });
    },
  );
  return { wasRunning: true };
}

function makePrivateDir(paths: EmbeddedPaths): void {
  // .opsctl is shared with other tools (PM2 home): only our own folder is private
  mkdirSync(dirname(paths.dir), { recursive: true });
  // as root, initdb runs as `postgres` before that account owns this folder: let it pass, not list
  mkdirSync(paths.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

function lockOptions(deps: EmbeddedDeps) {
  return { timeoutMs: LOCK_WAIT_MS, onWait: deps.onProgress };
}

type PgCtlResult = Awaited<ReturnType<Runner['run']>>;

async function runPgCtl(
  runner: Runner,
  user: ServerUser,
  paths: EmbeddedPaths,
  args: string[],
  waitS: number,
  onFailure: (res: PgCtlResult) => never,
): Promise<void> {
  const { pg_ctl } = await readPgBinaries(user);
  // pg_ctl refuses to run as root; the uid/gid switch also drops root's supplementary groups
  const res = await runner.run(pg_ctl, ['-D', paths.dataDir, ...args], {
    cwd: paths.dir,
    timeoutMs: waitS * 1000 + PG_CTL_MARGIN_MS,
    uid: user.uid,
    gid: user.gid,
    env: { LC_MESSAGES: 'C' },
  });
  if (res.exitCode !== 0) onFailure(res);
}

/** The server account owns its folder, socket folder and log; the state file stays ours (0600). */
function prepareFiles(paths: EmbeddedPaths, user: ServerUser): void {
  mkdirSync(paths.socketDir, { recursive: true, mode: 0o700 });
  if (!existsSync(paths.logFile)) closeSync(openSync(paths.logFile, 'a', 0o600));
  if (user.uid === undefined) return;
  const gid = user.gid ?? user.uid;
  for (const path of [paths.dir, paths.socketDir, paths.logFile]) chownSync(path, user.uid, gid);
  chmodSync(paths.dir, 0o700);
}

function readLog(paths: EmbeddedPaths): string {
  try {
    return readFileSync(paths.logFile, 'utf8');
  } catch {
    return '';
  }
}

/** pg_ctl starts the server through `sh -c` with paths in double quotes; refuse characters that would escape them. */
function verifyShellSafe(dir: string): void {
  if (/["`$\\\n]/.test(dir)) {
    throw new OpsError(
      'DB_PATH',
      `The embedded PostgreSQL cannot live in "${dir}": the path contains a quote, $, backtick or backslash.`,
      {
        hint: 'Move the app to a folder without those characters, or set DATABASE_URL to a PostgreSQL you run yourself.',
        exitCode: ExitCode.failed,
      },
    );
  }
}
