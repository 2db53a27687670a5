import { createRequire, Module } from 'node:module';
import type { Umzug as UmzugClass } from 'umzug';

/**
 * umzug's class without its CLI. `umzug` loads its command-line front end (@rushstack/ts-command-line, about
 * 120 ms of module loading) even when only the programmatic API is used; opsctl is its own CLI and never calls
 * `runAsCLI`, so that one module is pre-seeded with an inert stub. Falls back to the plain import if umzug's
 * layout changes.
 */
export function loadUmzug(): typeof UmzugClass {
  const require = createRequire(import.meta.url);
  try {
    const cliPath = require.resolve('umzug/lib/cli.js');
    if (!require.cache[cliPath]) {
      const stub = new Module(cliPath);
      stub.filename = cliPath;
      stub.loaded = true;
      stub.exports = { UmzugCLI: class UmzugCliNotLoaded {} };
      require.cache[cliPath] = stub;
    }
    return (require('umzug/lib/umzug.js') as { Umzug: typeof UmzugClass }).Umzug;
  } catch {
    return (require('umzug') as { Umzug: typeof UmzugClass }).Umzug;
  }
}
