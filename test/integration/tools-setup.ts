import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, expect } from 'vitest';
import { connectClient } from '../../src/db/migrate/connect.js';
import type { ToolAdapter, ToolChoice, ToolCommand, ToolStatus } from '../../src/db/tools/types.js';
import { createDatabase, makeApp, type TestDatabase, type TestServer, useServer } from './migrate-setup.js';

/** opsctl's own node_modules: knex, node-pg-migrate and pg are its devDependencies (real installs). */
export const OPSCTL_NODE_MODULES = realpathSync(resolve(import.meta.dirname, '../../node_modules'));

/** A temporary app package whose node_modules is `nodeModules` (a symlink, as a hoisted workspace would have). */
export function makeToolApp(
  manifest: Record<string, unknown>,
  files: Record<string, string>,
  nodeModules = OPSCTL_NODE_MODULES,
): ReturnType<typeof makeApp> & { manifest: Record<string, unknown> } {
  const app = makeApp({ 'package.json': `${JSON.stringify(manifest, null, 2)}\n`, ...files });
  symlinkSync(nodeModules, resolve(app.root, 'node_modules'));
  return { ...app, manifest };
}

export type ToolApp = ReturnType<typeof makeToolApp>;

/**
 * For each test of a suite: a fresh database on `server` and a fresh app from `build`, with the choice the adapter
 * detects in it; both removed after the test.
 */
export function useToolApp(server: TestServer, adapter: ToolAdapter, build: () => ToolApp) {
  const serverUrl = useServer(server);
  const t = {} as { db: TestDatabase; app: ToolApp; choice: ToolChoice };
  beforeEach(async () => {
    t.db = await createDatabase(serverUrl());
    t.app = build();
    t.choice = choiceFrom(adapter, t.app.root, t.app.manifest);
  });
  afterEach(async () => {
    await t.db.drop();
    t.app.remove();
  });
  return t;
}

/** The choice the framework would make from the adapter's evidence alone. */
export function choiceFrom(adapter: ToolAdapter, dir: string, manifest: Record<string, unknown>): ToolChoice {
  const evidence = adapter.detect(dir, manifest);
  if (!evidence) throw new Error(`${adapter.id}: nothing detected in ${dir}`);
  return {
    tool: adapter.id,
    pkg: 'app',
    dir,
    reasons: evidence.reasons,
    migrationsDir: evidence.migrationsDir,
    table: evidence.table ?? adapter.defaultTable,
  };
}

export async function readStatus(adapter: ToolAdapter, choice: ToolChoice, url: string): Promise<ToolStatus> {
  const client = await connectClient(url);
  try {
    return await adapter.readStatus(client, choice);
  } finally {
    await client.end();
  }
}

/** Run a tool command the way opsctl does: no shell, in the package folder, with DATABASE_URL. */
export async function runTool(command: ToolCommand, dir: string, url: string) {
  return execa(command.file, command.args, {
    cwd: dir,
    env: { DATABASE_URL: url },
    reject: false,
    all: true,
    timeout: 60_000,
  });
}

export const names = (status: ToolStatus) => status.executed.map((e) => e.name);

/** On a database the tool never touched: `pending` are pending, and nothing else is reported. */
export async function expectOnlyPending(adapter: ToolAdapter, choice: ToolChoice, url: string, pending: string[]) {
  expect(await readStatus(adapter, choice, url)).toEqual({ executed: [], pending, drifted: [], missing: [] });
}

/** Run the app's own tool from its node_modules/.bin, as its npm script would; it must succeed. */
export async function runOwnCli(dir: string, bin: string, args: string[], url: string): Promise<void> {
  const res = await runTool({ file: join(dir, 'node_modules', '.bin', bin), args }, dir, url);
  expect(res.exitCode, res.all).toBe(0);
}

/**
 * TypeORM cannot be a devDependency of opsctl (its ioredis peer range excludes opsctl's ioredis 6), so the tests
 * install test/fixtures/typeorm-app (package.json + package-lock.json) with `npm ci` into a temp folder kept
 * between runs, keyed by the lockfile's hash.
 */
const FIXTURE = resolve(import.meta.dirname, '../fixtures/typeorm-app');
const NETWORK_ERROR = /ENOTFOUND|ECONNREFUSED|EAI_AGAIN|ETIMEDOUT|ENETUNREACH|ECONNRESET/;

export async function installTypeorm(): Promise<{ nodeModules?: string; skip?: string }> {
  const lock = readFileSync(join(FIXTURE, 'package-lock.json'));
  const hash = createHash('sha256').update(lock).digest('hex').slice(0, 12);
  const cached = join(tmpdir(), `opsctl-typeorm-fixture-${hash}`);
  if (existsSync(join(cached, 'node_modules', '.bin', 'typeorm'))) return { nodeModules: join(cached, 'node_modules') };
  const work = mkdtempSync(join(tmpdir(), 'opsctl-typeorm-install-'));
  for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(FIXTURE, file), join(work, file));
  const res = await execa('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: work,
    reject: false,
    all: true,
    timeout: 300_000,
  });
  if (res.exitCode !== 0) {
    rmSync(work, { recursive: true, force: true });
    if (NETWORK_ERROR.test(res.all ?? '')) return { skip: `npm registry unreachable: ${res.all?.split('\n')[0]}` };
    throw new Error(`npm ci of the TypeORM fixture failed:\n${res.all}`);
  }
  // a rename is atomic: a parallel run either sees the whole install or none
  try {
    renameSync(work, cached);
  } catch {
    rmSync(work, { recursive: true, force: true });
  }
  return { nodeModules: join(cached, 'node_modules') };
}
