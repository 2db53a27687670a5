import type { Command } from 'commander';
import { configJsonSchema } from '../src/config/schema.js';
import { runCommand } from './context.js';
import { out } from './output.js';

/** Always JSON: the schema itself is the document (editors read it directly). */
export default function configSchema(cmd: Command): Promise<number> {
  return runCommand(cmd, async () => {
    out(JSON.stringify(configJsonSchema(), null, 2));
    return 0;
  });
}
