import type { ResolvedConfig } from '../../src/config/types.js';
import { describeEnv } from '../../src/db/target-label.js';
import { ExitCode, OpsError } from '../../src/errors.js';
import { isUnsetLoss, type StartEnvChange, type StartPlan } from '../../src/pm2/start-plan.js';
import { confirm } from '../shared/confirm.js';
import { type Cli, canPrompt } from '../shared/context.js';
import { err } from '../shared/output.js';

/**
 * Before start/restart acts: each key whose value differs from the package's last run, on stderr by name only
 * (README, "`opsctl status`, `start|stop|restart`": "A changed environment").
 */
export function printEnvChanges(cli: Cli, config: ResolvedConfig, plans: StartPlan[]): void {
  if (cli.json) return;
  for (const plan of plans) for (const c of plan.envChanges) err(`⚠ ${describeEnvChange(config, plan.name, c)}`);
}

/** `backend: env REDIS_URL removed since it last ran (the config reads ${REDIS_URL}, not set in this shell or .env)` */
export function describeEnvChange(config: ResolvedConfig, pkg: string, c: StartEnvChange): string {
  const line = `${pkg}: env ${c.name} ${c.change} since it last ran`;
  if (!c.unsetVariables?.length) return line;
  return `${line} (${readerOf(config, c.unsetVariables)}, not set in this shell or .env)`;
}

/** `the config reads ${REDIS_URL}`, or opsctl's own default (no `redis.url` in the config) `opsctl reads REDIS_URL`. */
function readerOf(config: ResolvedConfig, names: string[]): string {
  const inConfig = Object.values(config.unsetRefs ?? {}).some((refs) => names.some((n) => refs.includes(n)));
  return inConfig
    ? `the config reads ${names.map((n) => `\${${n}}`).join(', ')}`
    : `opsctl reads ${names.join(', ')} from the environment`;
}

/**
 * A value the config reads from a variable not set in this shell or `.env` would be lost: ask on a terminal, else
 * exit 2 before anything changes; `--yes` goes ahead (README, "A changed environment").
 */
export async function verifyEnvKept(cli: Cli, plans: StartPlan[], verb: 'start' | 'restart'): Promise<void> {
  const losing = plans.filter((p) => p.envChanges.some(isUnsetLoss));
  if (!losing.length) return;
  const names = [...new Set(losing.flatMap((p) => p.envChanges.flatMap((c) => c.unsetVariables ?? [])))];
  const keys = [...new Set(losing.flatMap((p) => p.envChanges.filter(isUnsetLoss).map((c) => c.name)))];
  const who = losing.map((p) => p.name).join(', ');
  // the question names where, as every confirmation does (README, "Confirmations")
  const question = `${verb} ${who}${describeEnv(cli.config())} without ${keys.join(', ')} (${names.join(', ')} not set here)`;
  if (cli.opts.yes) {
    if (!cli.json) err(`✔ --yes: ${question}.`);
    return;
  }
  if (canPrompt()) {
    if (await confirm(`${question}?`)) return;
    throw new OpsError('CANCELLED', `${verb} cancelled; nothing was changed.`, { exitCode: ExitCode.interrupted });
  }
  throw new OpsError(
    'ENV_UNSET',
    `${who} would ${verb} without ${keys.join(', ')}: ${names.map((n) => `\${${n}}`).join(', ')} ${names.length > 1 ? 'are' : 'is'} not set in this shell or .env, but ${names.length > 1 ? 'were' : 'was'} when it last ran. Nothing was changed.`,
    {
      hint: `Export ${names.join(', ')} in this shell or put ${names.length > 1 ? 'them' : 'it'} in the app's .env, then run this again; --yes ${verb}s without ${names.length > 1 ? 'them' : 'it'}.`,
      exitCode: ExitCode.usage,
    },
  );
}
