// Stands in for tinyglobby where umzug's lib/umzug.js requires it, in the bundle (see scripts/build.js): umzug globs
// only when given a `glob` option, and opsctl gives it the list of migrations it read itself
// (src/db/migrate/sources.ts), so the migrate chunk need not load tinyglobby and picomatch. Other code that globs
// gets the real tinyglobby.
'use strict';
function notBundled() {
  throw new Error("umzug's `glob` option is not supported in opsctl's bundle; pass umzug a list of migrations.");
}
exports.glob = notBundled;
exports.globSync = notBundled;
