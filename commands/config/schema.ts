import { configJsonSchema } from '../../src/config/schema.js';
import { ExitCode } from '../../src/errors.js';
import { type Invocation, runCommand } from '../shared/context.js';
import { out } from '../shared/output.js';

/** Always JSON: the schema itself is the document (editors read it directly). */
export function schema(cmd: Invocation): Promise<number> {
  return runCommand(cmd, async () => {
    out(JSON.stringify(configJsonSchema(), null, 2));
    return ExitCode.ok;
  });
}
