import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { deployPaths } from './paths.js';
import type { Provenance } from './provenance.js';

/**
 * What PM2 was last given for a package (README, "Deploy"): the release, a fingerprint of each environment value
 * (a keyed hash, never the value), and a count set by hand with `opsctl scale`.
 */
export interface LiveRecord {
  release: string;
  /** Per key, the HMAC of its value under the app's own fingerprint key. */
  env: Record<string, string>;
  /** `opsctl scale`: the count asked for and the config's `instances` at the time (kept until that changes). */
  scaled?: { instances: number; config: number };
  /** Releases that went live (passed the health gate), newest first: only these take the kept release slots. */
  history?: string[];
  /** Per release id in `history`: what it was made from (README, "Provenance"); older records have none. */
  provenance?: Record<string, ReleaseProvenance>;
  /** Set when a deploy's release failed once live and `release` was put back; cleared when another release goes live. */
  rolledBack?: RolledBack;
}

/** Why the running release is not the newest one that went live (README, "Provenance"). */
export interface RolledBack {
  /** The release it replaced. */
  from: string;
  /** `failed`: that release failed once live and a deploy put this one back; `requested`: `deploy --rollback`. */
  why: 'failed' | 'requested';
  at: string;
}

/** A package's share of a deploy's provenance: git state, its own version, who and when. */
export type ReleaseProvenance = Omit<Provenance, 'versions'> & { version: string | null };

const HISTORY = 20; // far more than the releases kept on disk

/**
 * A release passed its health gate: record it as what PM2 runs, with its identity environment's fingerprint and,
 * from a deploy, its provenance (a release that goes live again keeps the one it had unless given another).
 */
export function markLive(
  root: string,
  pkg: string,
  release: string,
  identity: Record<string, string>,
  provenance?: Provenance,
): void {
  const live = readLive(root, pkg);
  const history = [release, ...(live?.history ?? []).filter((id) => id !== release)].slice(0, HISTORY);
  const kept = Object.entries(live?.provenance ?? {}).filter(([id]) => history.includes(id));
  const own = provenance ? [[release, releaseProvenance(provenance, pkg)] as const] : [];
  updateLive(root, pkg, {
    release,
    env: fingerprintEnv(root, identity),
    history,
    provenance: Object.fromEntries([...kept, ...own]),
    // still a rollback when the same release goes live again (`opsctl start`); another release ends it
    rolledBack: live?.release === release ? live.rolledBack : undefined,
  });
}

function releaseProvenance({ versions, ...rest }: Provenance, pkg: string): ReleaseProvenance {
  return { ...rest, version: versions[pkg] ?? null };
}

/**
 * `release` was put back in place of `from`: by a deploy whose release failed once live (`failed`), or by
 * `deploy --rollback` (`requested`, which also records the environment it now runs with). The history keeps its
 * order, so another `--rollback` goes further back. `status` says the running release is a rollback.
 */
export function markRolledBack(
  root: string,
  pkg: string,
  release: string,
  rolledBack: Omit<RolledBack, 'at'>,
  identity?: Record<string, string>,
): void {
  updateLive(root, pkg, {
    release,
    ...(identity ? { env: fingerprintEnv(root, identity) } : {}),
    rolledBack: { ...rolledBack, at: new Date().toISOString() },
  });
}

/**
 * PM2 merges a reload's environment into the one it holds (God/Reload.js: `Utility.extend(pm2_env.env, opts.env)`),
 * so a key can never be taken away by a reload: a key the running release had and this one does not is handed to
 * PM2 as an empty string (README, "Deploy").
 */
export function clearedEnv(root: string, pkg: string, identity: Record<string, string>): Record<string, string> {
  const live = readLive(root, pkg);
  return Object.fromEntries(
    Object.keys(live?.env ?? {})
      .filter((k) => !(k in identity))
      .map((k) => [k, '']),
  );
}

/** One key whose value differs from the recorded one (never the value itself). */
export interface EnvChange {
  /** The variable's name (not `key`: output redaction masks a field named like a secret). */
  name: string;
  change: 'added' | 'removed' | 'changed';
}

/**
 * What differs between the recorded fingerprint and this identity environment, as `env X changed|added|removed`
 * (deploy's reasons). Only asked when a record exists, so the key it needs exists too: deciding writes nothing.
 */
export function envChangesSince(root: string, live: LiveRecord, identity: Record<string, string>): string[] {
  return envDiffSince(root, live, identity).map((c) => `env ${c.name} ${c.change}`);
}

/** The same comparison as envChangesSince, as data (start/restart's `envChanges`). */
export function envDiffSince(root: string, live: LiveRecord, identity: Record<string, string>): EnvChange[] {
  return envChanges(live.env, fingerprintEnv(root, identity));
}

function liveFile(root: string, pkg: string): string {
  return join(deployPaths(root).releases(pkg), 'live.json');
}

export function readLive(root: string, pkg: string): LiveRecord | undefined {
  try {
    return JSON.parse(readFileSync(liveFile(root, pkg), 'utf8')) as LiveRecord;
  } catch {
    return undefined; // none yet (or damaged): the next deploy reloads once and writes it
  }
}

export function writeLive(root: string, pkg: string, live: LiveRecord): void {
  const file = liveFile(root, pkg);
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(live, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/** Update the record, keeping what the patch does not name. */
export function updateLive(root: string, pkg: string, patch: Partial<LiveRecord>): void {
  const live = readLive(root, pkg);
  const release = patch.release ?? live?.release;
  if (!release) return;
  writeLive(root, pkg, { env: {}, ...live, ...patch, release });
}

/**
 * Each value's HMAC-SHA256 under a random key of the app (`.opsctl/deploy/fingerprint.key`, 0600): a plain hash of
 * a short secret could be guessed offline from the record.
 */
function fingerprintEnv(root: string, env: Record<string, string>): Record<string, string> {
  const key = fingerprintKey(root);
  const out: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) {
    out[name] = createHmac('sha256', key).update(env[name]!).digest('hex').slice(0, 16);
  }
  return out;
}

/** What differs between two fingerprints, keys sorted. Never values. */
function envChanges(before: Record<string, string>, after: Record<string, string>): EnvChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.flatMap((name): EnvChange[] => {
    if (before[name] === after[name]) return [];
    if (before[name] === undefined) return [{ name, change: 'added' }];
    if (after[name] === undefined) return [{ name, change: 'removed' }];
    return [{ name, change: 'changed' }];
  });
}

function fingerprintKey(root: string): Buffer {
  const file = join(root, '.opsctl', 'deploy', 'fingerprint.key');
  if (existsSync(file)) return readFileSync(file);
  mkdirSync(dirname(file), { recursive: true });
  const key = randomBytes(32);
  try {
    writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
    return key;
  } catch {
    return readFileSync(file); // another deploy wrote it first
  }
}
