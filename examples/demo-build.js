// What `npm run build` writes (scripts/build.js): the bundle bin/opsctl.js runs and the rendered top-level help.
// The demo builds opsctl only when one of them is missing (test/unit/demo-build.test.ts keeps this list honest).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const BUILD_OUTPUTS = ['dist/cli/index.js', 'dist/help.txt'];

/** Whether opsctl in `repo` has been built (every file the build writes is there). */
export function isBuilt(repo) {
  return BUILD_OUTPUTS.every((file) => existsSync(join(repo, file)));
}
