import { createInterface } from 'node:readline/promises';
import chalk from 'chalk';
import type { ResolvedConfig } from '../../src/config/types.js';
import {
  devtoolsUrl,
  type InspectorAddress,
  nodeInspectCommand,
  sshTunnel,
  vscodeAttach,
} from '../../src/debug/inspector-url.js';
import { ExitCode, OpsError, usageError } from '../../src/errors.js';
import { entryLines, parseLogLines } from '../../src/logs/log-entry.js';
import type { AppPackage } from '../../src/packages/types.js';
import { type Cli, canPrompt } from '../shared/context.js';
import { err, out } from '../shared/output.js';
import { namedPackages } from '../shared/pm2-context.js';

/**
 * The package named on the command line; else the only one selected (`-p`), else the only one with a port; else asked
 * on a terminal; else a usage error naming the choices (README, "`opsctl debug`").
 */
export async function choosePackage(cli: Cli, config: ResolvedConfig, name: string | undefined): Promise<AppPackage> {
  if (name) return namedPackages(config, [name])[0]!;
  if (config.packages.length === 1) return config.packages[0]!;
  const withPort = config.packages.filter((p) => p.port !== undefined);
  if (withPort.length === 1) return withPort[0]!;
  const choices = withPort.length ? withPort : config.packages;
  if (!choices.length)
    throw usageError('This app has no packages to debug.', 'Check --cwd, or the packages in the config.');
  const command = `opsctl ${cli.name}`;
  if (!canPrompt() || cli.json) {
    throw usageError(
      `Which package? ${choices.length} packages could be debugged: ${choices.map((p) => p.name).join(', ')}.`,
      `Name one: \`${command} ${choices[0]!.name}\`.`,
    );
  }
  return choices[
    await ask(
      `Debug which package?`,
      choices.map((p) => p.name),
    )
  ]!;
}

/** A numbered choice on stderr; Ctrl-C or end of input is exit 130. */
async function ask(question: string, names: string[]): Promise<number> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    err(question);
    for (const [i, n] of names.entries()) err(`  ${i + 1}) ${n}`);
    for (;;) {
      const answer = await new Promise<string>((resolve, reject) => {
        const cancel = () => reject(new OpsError('INTERRUPTED', 'Cancelled.', { exitCode: ExitCode.interrupted }));
        rl.once('SIGINT', cancel);
        rl.once('close', cancel);
        rl.question(`Number (1-${names.length}): `).then(resolve, reject);
      });
      const n = Number(answer.trim());
      if (Number.isInteger(n) && n >= 1 && n <= names.length) return n - 1;
    }
  } finally {
    rl.close();
  }
}

/**
 * An interactive session needs a terminal on both sides (and no --json): otherwise a usage error that says how to
 * attach instead (README, "`opsctl debug`").
 */
export function verifyTerminal(cli: Cli, instead: string): void {
  if (cli.json) throw usageError('--attach opens an interactive session, which --json cannot show.', instead);
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw usageError('--attach needs a terminal (stdin and stdout are not one here).', instead);
  }
}

/** The inspector's ws:// URL alone on stdout; on stderr how to attach with DevTools, VS Code, node inspect, SSH. */
export function printInspector(
  pkg: AppPackage,
  address: InspectorAddress,
  root: string,
  pid: number | undefined,
  remoteDir = pkg.dir,
): void {
  out(address.url);
  err(chalk.green(`✔ ${pkg.name}${pid ? ` (pid ${pid})` : ''} has its inspector on ${address.host}:${address.port}`));
  err(`  DevTools:  ${devtoolsUrl(address)}  (paste into Chrome's address bar)`);
  err(`  Terminal:  ${nodeInspectCommand(address)}`);
  err('  VS Code:   add to .vscode/launch.json "configurations":');
  for (const line of JSON.stringify(vscodeAttach(address, pkg, root, remoteDir), null, 2).split('\n'))
    err(`    ${line}`);
  err(`  Remote:    ${sshTunnel(address)}  (on your machine; then attach to 127.0.0.1:${address.port})`);
}

/** `backend │ ` in the package's colour, for its own output lines. */
export function linePrefix(pkg: AppPackage): string {
  return chalk.cyan(`${pkg.name} │`);
}

/**
 * One line of the package's output as shown: a JSON log line (pino, winston, bunyan) read as `opsctl logs` shows it
 * (time, level, message, the other fields, its stack), anything else as written; each shown line prefixed.
 */
export function packageLine(pkg: AppPackage, line: string): string {
  const [entry] = parseLogLines(line, { package: pkg.name, stream: 'out' });
  const shown = entry && entry.level !== undefined ? entryLines(entry) : [line];
  return shown.map((l) => `${linePrefix(pkg)} ${l}`).join('\n');
}
