import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What deploy remembers per package between runs: hashes only, never environment values. */
export interface PackageState {
  /** hashManifest() at the last successful install. */
  install?: string;
  /** Inputs hash at the last successful build. */
  build?: string;
}

export type DeployState = Record<string, PackageState>;

export function readDeployState(file: string): DeployState {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DeployState;
  } catch {
    return {}; // a damaged cache only costs a rebuild
  }
}

/** Update one package's entry (read-modify-write, atomic rename: packages finish concurrently). */
export function updateDeployState(file: string, pkg: string, patch: PackageState): void {
  const state = readDeployState(file);
  state[pkg] = { ...state[pkg], ...patch };
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}
