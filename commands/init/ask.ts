import { existsSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { confirm, input } from '@inquirer/prompts';
import { ExitCode, OpsError } from '../../src/errors.js';
import type { DetectedApp, InitAnswers } from '../../src/init/types.js';

/** Prompts on stderr: stdout is for results (README, "Output"); SIGTERM ends the open prompt (see below). */
const terminated = new AbortController();
const CONTEXT = { input: process.stdin, output: process.stderr, signal: terminated.signal };

/**
 * Confirm the detected values, or correct them one by one; Ctrl-C is exit 130, SIGTERM (a supervisor, a CI time-out)
 * exit 143, with nothing written. The prompt library listens for SIGTERM too, which makes the command's own handler
 * leave SIGTERM to it, and it does not end the prompt: without this, init would wait at the question forever.
 */
export async function confirmAnswers(app: DetectedApp, detected: InitAnswers): Promise<InitAnswers> {
  const onTerm = () => terminated.abort();
  process.once('SIGTERM', onTerm);
  try {
    if (await confirm({ message: 'Write opsctl.config.yaml with these values?', default: true }, CONTEXT)) {
      return detected;
    }
    return await correct(app, detected);
  } catch (error) {
    if (error instanceof Error && error.name === 'ExitPromptError') {
      throw new OpsError('INTERRUPTED', 'Cancelled: nothing was written.', {
        hint: 'Run `opsctl init` again, or `opsctl init --yes` to take what it found.',
        exitCode: ExitCode.interrupted,
        cause: error,
      });
    }
    if (error instanceof Error && error.name === 'AbortPromptError') {
      throw new OpsError('TERMINATED', 'Terminated (SIGTERM): nothing was written.', {
        hint: 'Run `opsctl init` again, or `opsctl init --yes` to take what it found.',
        exitCode: ExitCode.terminated,
        cause: error,
      });
    }
    throw error;
  } finally {
    process.removeListener('SIGTERM', onTerm);
  }
}

async function correct(app: DetectedApp, detected: InitAnswers): Promise<InitAnswers> {
  const packages: InitAnswers['packages'] = [];
  for (const p of detected.packages) {
    const starts = app.packages.find((d) => d.name === p.name)?.starts;
    if (!starts) {
      packages.push(p);
      continue;
    }
    const port = await input(
      { message: `${p.name}: port (empty: none)`, default: p.port?.toString() ?? '', validate: validPort },
      CONTEXT,
    );
    const health = await input(
      {
        message: `${p.name}: health check (a path like /health, "tcp", or empty)`,
        default: p.health ?? '',
        validate: validHealth,
      },
      CONTEXT,
    );
    packages.push({
      name: p.name,
      path: p.path,
      ...(port.trim() ? { port: Number(port) } : {}),
      ...(health.trim() ? { health: health.trim() } : {}),
    });
  }
  // an app tool finds its own migrations: only opsctl's engine has a folder to ask about
  const migrations = detected.tool
    ? ''
    : await input(
        {
          message: 'Migrations folder (relative to the app root; empty: none)',
          default: detected.migrations ?? '',
          validate: (value) => validFolder(app.root, value),
        },
        CONTEXT,
      );
  const databaseVariable = await askVariable('database', detected.databaseVariable);
  const redisVariable = await askVariable('Redis', detected.redisVariable);
  const { migrations: _m, databaseVariable: _d, redisVariable: _r, ...rest } = detected;
  return {
    ...rest,
    packages,
    ...(migrations.trim() ? { migrations: migrations.trim().replace(/\/+$/, '') } : {}),
    ...(databaseVariable ? { databaseVariable } : {}),
    ...(redisVariable ? { redisVariable } : {}),
  };
}

/** The variable a service's URL is in (written as `${NAME}`, never a value); empty leaves the key out. */
async function askVariable(service: string, current: string | undefined): Promise<string> {
  const answer = await input(
    {
      message: `Environment variable holding the ${service} URL (empty: none)`,
      default: current ?? '',
      validate: (value) =>
        !value.trim() || /^[A-Za-z_][A-Za-z0-9_]*$/.test(value.trim()) ? true : 'a variable name, like DATABASE_URL',
    },
    CONTEXT,
  );
  return answer.trim();
}

function validPort(value: string): true | string {
  const v = value.trim();
  if (!v) return true;
  return /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? true : 'a port is a number from 1 to 65535';
}

function validFolder(root: string, value: string): true | string {
  const v = value.trim();
  if (!v) return true;
  const dir = resolve(root, v);
  // inside the app: the config, the CI jobs and the migrate scripts all take it relative to the app root
  const inside = !relative(root, dir).startsWith('..') && !isAbsolute(relative(root, dir));
  return inside && existsSync(dir) && statSync(dir).isDirectory() ? true : `no folder "${v}" in the app`;
}

function validHealth(value: string): true | string {
  const v = value.trim();
  return !v || v === 'tcp' || v.startsWith('/') ? true : 'a path starting with "/", or "tcp"';
}
