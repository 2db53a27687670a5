import chalk from 'chalk';
import { reachesLevel } from '../../src/deps/bump.js';
import { checkOutdated } from '../../src/deps/check-outdated.js';
import type { Bump, OutdatedDependency } from '../../src/deps/types.js';
import { ExitCode } from '../../src/errors.js';
import { selectPackages } from '../../src/packages/discover.js';
import { type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { err, out, table } from '../shared/output.js';

type Level = Bump | 'any';

export interface OutdatedOptions extends GlobalOptions {
  failOn?: Level;
  timeout?: number;
}

const BUMP_COLOUR: Record<Bump, (s: string) => string> = { major: chalk.red, minor: chalk.yellow, patch: chalk.green };

/** `opsctl outdated [packages...] [--fail-on level]`: every package's outdated dependencies in one table. */
export function outdated(cmd: Invocation<OutdatedOptions>, packages: string[]): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const opts = cli.opts;
    const selected = selectPackages(cli.config().packages, packages, cli.config().appPackages);
    if (!cli.json) err(`Checking ${selected.length} package${selected.length === 1 ? '' : 's'} against the registry…`);
    const result = await checkOutdated(selected, { runner: cli.runner, timeoutMs: opts.timeout });

    const failing = opts.failOn ? result.dependencies.filter((d) => reachesLevel(d, opts.failOn!)) : [];
    const exitCode = failing.length ? ExitCode.findings : ExitCode.ok;
    if (cli.json) {
      return cli.finish(exitCode, {
        dependencies: result.dependencies,
        skipped: result.skipped,
        failOn: opts.failOn ?? null,
      });
    }
    for (const v of result.viaNpm) err(`⚠ ${v.package}: asked npm itself (npm config sets ${v.settings.join(', ')}).`);
    for (const s of result.skipped) err(`⚠ ${s.package}: ${s.name} skipped (${s.reason}), as npm outdated does.`);
    if (!result.dependencies.length) {
      err('✔ Every dependency is at its latest version.');
      return exitCode;
    }
    out(table(result.dependencies.map(row), ['package', 'dependency', 'kind', 'current', 'wanted', 'latest', 'bump']));
    err(summary(result.dependencies));
    if (opts.failOn) {
      err(
        failing.length
          ? `✖ ${failing.length} outdated at or above --fail-on ${opts.failOn}.`
          : `✔ Nothing at or above --fail-on ${opts.failOn}.`,
      );
    }
    return exitCode;
  });
}

function row(d: OutdatedDependency): string[] {
  return [
    d.package,
    d.name,
    d.kind,
    d.current ?? chalk.red('MISSING'),
    d.current === d.wanted ? d.wanted : chalk.cyan(d.wanted),
    d.latest,
    d.bump ? BUMP_COLOUR[d.bump](d.bump) : chalk.dim('-'),
  ];
}

function summary(deps: OutdatedDependency[]): string {
  const count = (b: Bump | null) => deps.filter((d) => d.bump === b).length;
  const parts = [`${count('major')} major`, `${count('minor')} minor`, `${count('patch')} patch`];
  if (count(null)) parts.push(`${count(null)} not installed`);
  return `${deps.length} outdated: ${parts.join(', ')}.`;
}
