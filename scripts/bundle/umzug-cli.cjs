// Stands in for umzug's lib/cli.js in the bundle (see scripts/build.js): opsctl drives umzug through its API and
// never through umzug's own command line, whose front end (@rushstack/ts-command-line) is most of umzug's size.
'use strict';
function notBundled() {
  throw new Error("umzug's command-line front end is not part of opsctl's bundle; use umzug's API.");
}
class UmzugCLI {
  constructor() {
    notBundled();
  }
}
exports.UmzugCLI = UmzugCLI;
exports.UpAction = UmzugCLI;
exports.DownAction = UmzugCLI;
exports.ListAction = UmzugCLI;
exports.CreateAction = UmzugCLI;
