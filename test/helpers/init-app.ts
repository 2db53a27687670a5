import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The password in the fixture's `.env.example`: no output of `init` may show it. */
export const FIXTURE_PASSWORD = 'Sup3rS3cretPw';

/**
 * An app for `opsctl init` without a config: `api` (port in code as a destructuring default, `/healthz`, its URL in
 * PG_URL, Redis, migrations in api/migrations), `web` (port in its start script, `/health`) and `shared` (a library
 * without a start script).
 */
export function makeInitApp(extra: Record<string, string> = {}): { root: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), 'opsctl-init-'));
  const files: Record<string, string> = {
    'api/package.json': `${JSON.stringify(
      {
        name: 'api',
        private: true,
        type: 'module',
        scripts: { start: 'node src/server.js', test: 'node --test' },
        dependencies: { pg: '^8.0.0', ioredis: '^5.0.0', shared: 'file:../shared' },
      },
      null,
      4,
    )}\n`,
    'api/src/server.js': [
      "import { createServer } from 'node:http';",
      '// server.listen(9999) in a comment is no port',
      'const { PORT = 4100 } = process.env;',
      'const databaseUrl = process.env.PG_URL;',
      "const redisUrl = process.env['REDIS_URL'];",
      'createServer((req, res) => {',
      "  if (req.url === '/healthz') return res.end('ok');",
      '  res.end(String(Boolean(databaseUrl && redisUrl)));',
      '}).listen(PORT);',
      '',
    ].join('\n'),
    'api/.env.example': `PG_URL=postgres://app:${FIXTURE_PASSWORD}@localhost:5432/app\nREDIS_URL=redis://localhost:6379\n`,
    'api/migrations/0001_create_items.sql':
      '-- up\ncreate table items (id int primary key);\n-- down\ndrop table items;\n',
    'web/package.json': `${JSON.stringify({ name: 'web', private: true, scripts: { start: `PORT=3100 API_TOKEN=${FIXTURE_PASSWORD} node web.js` } }, null, 2)}\n`,
    'web/web.js': [
      "import { createServer } from 'node:http';",
      "createServer((req, res) => res.end(req.url === '/health' ? 'ok' : 'page')).listen(process.env.PORT);",
      '',
    ].join('\n'),
    'shared/package.json': `${JSON.stringify({ name: 'shared', private: true, main: 'index.js' }, null, 2)}\n`,
    'shared/index.js': 'export const answer = 42;\n',
    ...extra,
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
