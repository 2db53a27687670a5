// `npm run bench`: every benchmark in one run, printed as a table and written to bench/results.json.
import { existsSync, writeFileSync } from 'node:fs';
import { printRows } from './lib.js';

const SUITES = ['startup', 'doctor', 'migrate', 'outdated', 'deploy', 'downtime', 'audit', 'watch', 'keys'];
const only = process.argv.slice(2);

const rows = [];
for (const suite of SUITES) {
  if (only.length && !only.includes(suite)) continue;
  if (!existsSync(new URL(`./${suite}.js`, import.meta.url))) continue;
  process.stderr.write(`running ${suite}...\n`);
  const mod = await import(`./${suite}.js`);
  rows.push(...(await mod.run()));
}
printRows(rows);
const results = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: (await import('node:os')).cpus().length,
  rows,
};
writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
process.exitCode = rows.every((r) => r.ok) ? 0 : 1;
