import type { InitResult } from '../../src/init/apply.js';
import type { DetectedApp, Found } from '../../src/init/types.js';
import { table } from '../shared/output.js';

/** What init found, one row per value with where it came from (shown before anything is asked or written). */
export function describeFindings(app: DetectedApp): string {
  const rows: string[][] = [];
  const row = (what: string, found: Found<string | number> | undefined, missing: string) =>
    rows.push([what, found ? String(found.value) : '–', found ? found.source : missing]);
  for (const p of app.packages) {
    rows.push([`package ${p.name}`, p.path, p.starts ? 'has a start script' : 'no start script (not started)']);
    if (!p.starts) continue;
    row(`  port`, p.port, 'not found (scripts, .env, code)');
    row(`  health`, p.health, 'no health route found');
  }
  if (app.tool) row('migration tool', app.tool, '');
  else row('migrations', app.migrations, 'no migrations folder found');
  if (app.toolProblem) rows.push(['migration tool', '?', app.toolProblem]);
  rows.push([
    'database',
    app.database ? `\${${app.database.variable}}` : '–',
    serviceSource(app.database, 'no PostgreSQL client found'),
  ]);
  rows.push([
    'redis',
    app.redis ? `\${${app.redis.variable}}` : '–',
    serviceSource(app.redis, 'no Redis client found'),
  ]);
  return `Found in ${app.root}:\n${table(rows.map((r) => [`  ${r[0]!}`, r[1]!, r[2]!]))}`;
}

function serviceSource(service: DetectedApp['database'], missing: string): string {
  return service ? service.reasons.join(', ') || 'usual name' : missing;
}

/** The files written (or under --dry-run, their text), and the scripts added. */
export function describeResult(result: InitResult): string {
  const lines = result.preview
    ? Object.entries(result.preview).map(([file, text]) => `# ${file} (--dry-run: not written)\n${text.trimEnd()}\n`)
    : result.files.map((f) => `✔ ${f.action} ${f.path}`);
  const added = result.preview ? 'would add' : 'added';
  for (const c of result.scripts?.changes ?? []) {
    const where = `script "${c.name}" in ${result.scripts!.package}`;
    if (c.added) lines.push(`  ${added} ${where}: ${c.script}`);
    else lines.push(c.reason ? `  not added ${where}: ${c.reason}` : `  kept ${where} (the package has one)`);
  }
  return lines.join('\n');
}
