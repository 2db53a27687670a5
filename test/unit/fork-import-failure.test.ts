import { describe, expect, it } from 'vitest';
import { forkImportFailureIn } from '../../src/pm2/crash.js';

/** What PM2's fork container writes (each line stamped) when the module it `import()`s throws while loading. */
const STAMP = '2026-11-29T16:41:15.621+00:00: ';

describe('forkImportFailureIn', () => {
  it('finds the error line of a stack through the ES module loader', () => {
    const lines = [
      `${STAMP}Error: boom at import`,
      `${STAMP}    at file:///app/server.js:1:7`,
      `${STAMP}    at ModuleJob.run (node:internal/modules/esm/module_job:325:25)`,
      `${STAMP}    at async ModuleLoader.import (node:internal/modules/esm/loader:606:24)`,
    ];
    expect(forkImportFailureIn(lines)).toBe('Error: boom at import');
  });

  it('ignores an error logged by the running app', () => {
    const lines = [`${STAMP}Error: request failed`, `${STAMP}    at handler (file:///app/src/app.js:40:11)`];
    expect(forkImportFailureIn(lines)).toBeUndefined();
  });
});
