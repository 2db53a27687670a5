import { ExitCode } from '../../src/errors.js';
import { openCodec } from '../../src/keys/codec.js';
import { codecSpec } from '../../src/keys/settings.js';
import { type ColumnStatus, describeUnfinished, readKeyStatus } from '../../src/keys/status.js';
import { type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { err, out, table } from '../shared/output.js';
import { openKeysSession } from './shared.js';

export interface StatusOptions extends GlobalOptions {
  sample: number;
  all?: boolean;
}

/**
 * `opsctl keys status` (README, "`opsctl keys`"): exit 1 when a value tried does not decrypt with the configured key,
 * or a rotation has not finished.
 */
export function status(cmd: Invocation<StatusOptions>): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const { config, settings, currentKey, client, targets } = await openKeysSession(cli, 'status');
    try {
      const codec = await openCodec(codecSpec(config, settings, currentKey, 'configured key'));
      let columns: ColumnStatus[];
      try {
        columns = await readKeyStatus({
          client,
          schema: config.database.schema,
          targets,
          codec,
          key: currentKey,
          sample: cli.opts.sample,
          all: cli.opts.all,
        });
      } finally {
        await codec.close();
      }
      const unfinished = columns.map(describeUnfinished).filter((m) => m !== undefined);
      const failing = unfinished.length > 0 || columns.some((c) => c.decrypt < c.checked);
      const exitCode = failing ? ExitCode.findings : ExitCode.ok;
      if (cli.json)
        return cli.finish(exitCode, { variable: settings.keyEnv, maxAgeDays: settings.maxAgeDays, columns });
      out(
        table(
          columns.map((c) => [
            c.column,
            String(c.rows),
            `${c.decrypt}/${c.checked}${cli.opts.all ? '' : ' sampled'}`,
            c.lastRotation ? `${c.lastRotation.finishedAt.slice(0, 10)} (${c.lastRotation.ageDays} d)` : 'never',
            c.unfinished ? `interrupted run since ${c.unfinished.startedAt}` : '',
          ]),
          ['column', 'rows', `decrypt with ${settings.keyEnv}`, 'last rotation', ''],
        ),
      );
      for (const message of unfinished) err(`✖ ${message}: run the same \`opsctl keys rotate\` again to finish it.`);
      if (columns.some((c) => c.decrypt < c.checked))
        err(
          `✖ Some values do not decrypt with the key in ${settings.keyEnv}: is it the key the data was encrypted with?`,
        );
      return exitCode;
    } finally {
      await client.end().catch(() => undefined);
    }
  });
}
