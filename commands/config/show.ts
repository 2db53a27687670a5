import { stringify } from 'yaml';
import type { ResolvedConfig } from '../../src/config/types.js';
import { detectTool, reportTool } from '../../src/db/tools/detect.js';
import { ExitCode, errorMessage, isOpsError } from '../../src/errors.js';
import { redactValue } from '../../src/output/redact.js';
import { type Invocation, runCommand } from '../shared/context.js';
import { out } from '../shared/output.js';

/** `opsctl config show`: the resolved config, secrets redacted. */
export function show(cmd: Invocation): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    const shown = redactValue({
      root: config.root,
      file: config.file ?? null,
      env: config.envName ?? null,
      packages: config.packages.map((p) => ({
        name: p.name,
        path: p.path,
        ...(p.port ? { port: p.port } : {}),
        ...(p.health ? { health: p.health } : {}),
        ...(p.debugPort ? { debugPort: p.debugPort } : {}),
        ...(p.instances ? { instances: p.instances } : {}),
        dependsOn: p.dependsOn,
        scripts: p.scripts,
        env: p.env,
        outputs: p.outputs,
      })),
      database: { ...config.database, url: config.database.url ?? null },
      migrationTool: migrationTool(config),
      redis: { url: config.redis.url ?? null },
      logs: config.logs,
      audit: config.audit,
      pipelines: config.pipelines,
    });
    if (cli.json) return cli.finish(ExitCode.ok, shown);
    out(stringify(shown).trimEnd());
    return ExitCode.ok;
  });
}

/** Which tool runs the migrations and why, from the files (`migrate status` adds what the database says). */
function migrationTool(config: ResolvedConfig) {
  try {
    return reportTool(config, detectTool(config));
  } catch (err) {
    return { id: null, error: errorMessage(err), hint: isOpsError(err) ? (err.hint ?? null) : null };
  }
}
