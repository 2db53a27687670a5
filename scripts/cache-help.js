// Build step: render the top-level help once (80 columns) so `opsctl --help` answers without loading commander.
import { writeFileSync } from 'node:fs';

process.stdout.columns = 80;
const { buildProgram, EXIT_CODES_HELP } = await import('../dist/commands/program.js');
writeFileSync(new URL('../dist/help.txt', import.meta.url), `${buildProgram().helpInformation()}${EXIT_CODES_HELP}\n`);
