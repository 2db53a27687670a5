// Which way the layers point (README, "Repository layout"), checked by `npm run lint`.
// Core rooms are used by everything and use no feature room. Feature rooms come in two tiers: the ones that talk to
// one outside thing (pm2, db, redis, deps; keys: the app's encryption module, over a pg client it is handed) use core
// rooms only; the ones that put several together (checks = doctor, deploy, and the audit/debug/watch rooms to come)
// may use those, never each other. So no circle between rooms.
const CORE = '^src/(app|config|graph|logs|net|output|packages|process|tasks)/|^src/errors[.]ts$';
const FEATURE = '^src/(audit|checks|db|debug|deploy|deps|init|keys|lb|pipelines|pm2|redis|remote|watch)/';
const LEAF_FEATURE = '^src/(db|deps|keys|lb|pipelines|pm2|redis|remote)/';
const TOP_FEATURE = '^src/(audit|checks|debug|deploy|init|watch)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Files must not import each other in a circle.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'src-not-commands',
      comment: 'src/ is behaviour a second front end could reuse: it never imports the CLI surface.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^commands/' },
    },
    {
      name: 'src-not-commander',
      comment: 'src/ never imports commander: flags and help text belong to commands/.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: 'node_modules/(commander|@commander-js/[^/]+)/' },
    },
    {
      name: 'commands-no-io-libraries',
      comment: 'commands/ parses, assembles and prints; processes, databases, Redis and ptys are reached through src/.',
      severity: 'error',
      from: { path: '^commands/' },
      to: { path: 'node_modules/(execa|pg|ioredis|node-pty|umzug)/' },
    },
    {
      name: 'core-not-feature',
      comment: 'A core room is used by the feature rooms and uses none of them.',
      severity: 'error',
      from: { path: CORE },
      to: { path: FEATURE },
    },
    {
      name: 'leaf-feature-not-feature',
      comment: 'pm2, db, redis and deps use core rooms only (what two features share moves down into a core room).',
      severity: 'error',
      from: { path: LEAF_FEATURE },
      to: { path: FEATURE, pathNot: '^src/$1/' },
    },
    {
      name: 'top-feature-not-top-feature',
      comment: 'checks, deploy (and audit, debug, watch) may use pm2, db, redis and deps, never each other.',
      severity: 'error',
      from: { path: TOP_FEATURE },
      to: { path: TOP_FEATURE, pathNot: '^src/$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    cache: false,
  },
};
