import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addSecret } from '../output/redact.js';

/** What `opsctl db start` records about the embedded cluster under `.opsctl/pg`. */
export interface EmbeddedState {
  port: number;
  user: string;
  password: string;
  database: string;
}

/** Where the embedded cluster keeps its files, all under `<root>/.opsctl/pg`. */
export interface EmbeddedPaths {
  dir: string;
  /** PGDATA */
  dataDir: string;
  /** The server log pg_ctl appends to. */
  logFile: string;
  /** Unix socket directory (kept inside the app so no system folder is needed). */
  socketDir: string;
  stateFile: string;
}

export function embeddedDir(root: string): string {
  return join(root, '.opsctl', 'pg');
}

export function embeddedStateFile(root: string): string {
  return join(embeddedDir(root), 'opsctl.json');
}

export function embeddedPaths(root: string): EmbeddedPaths {
  const dir = embeddedDir(root);
  return {
    dir,
    dataDir: join(dir, 'data'),
    logFile: join(dir, 'postgres.log'),
    socketDir: join(dir, 'run'),
    stateFile: embeddedStateFile(root),
  };
}

export function readEmbeddedState(root: string): EmbeddedState | undefined {
  const file = embeddedStateFile(root);
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as EmbeddedState;
    addSecret(state.password);
    return state;
  } catch {
    return undefined;
  }
}

/** Write the state file readable by its owner only: it holds the cluster's password. */
export function writeEmbeddedState(root: string, state: EmbeddedState): void {
  const file = embeddedStateFile(root);
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // mode only applies when the file is created
}

export function embeddedUrl(state: EmbeddedState): string {
  return `postgres://${state.user}:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/${state.database}`;
}

/** The embedded database's URL, once `opsctl db start` has set it up (its password is registered as a secret). */
export function readEmbeddedUrl(root: string): string | undefined {
  const state = readEmbeddedState(root);
  return state ? embeddedUrl(state) : undefined;
}
