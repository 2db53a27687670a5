import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode, OpsError } from '../errors.js';
import type { DeclaredDependency, EdgeType } from './types.js';

interface ManifestDeps {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** Read and parse `<dir>/package.json`; a missing or corrupt file is an OpsError naming it (exit 2). */
export async function readManifest(dir: string): Promise<ManifestDeps & Record<string, unknown>> {
  const file = join(dir, 'package.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new OpsError('NO_MANIFEST', `${file}: cannot read package.json.`, { exitCode: ExitCode.usage, cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new OpsError('BAD_MANIFEST', `${file}: invalid JSON: ${(err as Error).message}`, {
      hint: 'Fix the package.json syntax.',
      exitCode: ExitCode.usage,
      cause: err,
    });
  }
}

/**
 * The direct dependencies of a package.json, one per name, the way npm's arborist builds its edges: peer, then
 * dependencies, optionalDependencies and devDependencies, a later list overriding an earlier one for the same name.
 */
export function declaredDependencies(manifest: ManifestDeps): DeclaredDependency[] {
  const edges = new Map<string, DeclaredDependency>();
  const add = (deps: Record<string, string> | undefined, type: EdgeType) => {
    for (const [name, spec] of Object.entries(deps ?? {})) edges.set(name, { name, spec: String(spec), type });
  };
  const peerMeta = manifest.peerDependenciesMeta ?? {};
  const peers = Object.entries(manifest.peerDependencies ?? {});
  add(Object.fromEntries(peers.filter(([n]) => !peerMeta[n]?.optional)), 'peer');
  add(Object.fromEntries(peers.filter(([n]) => peerMeta[n]?.optional)), 'peerOptional');
  add(manifest.dependencies, 'prod');
  add(manifest.optionalDependencies, 'optional');
  add(manifest.devDependencies, 'dev');
  return [...edges.values()];
}
