import { describe, expect, it } from 'vitest';
import { displayPath, sourcePathsIn } from '../../src/logs/stack.js';

/** Log lines and messages name the source file people edit, not the release copy that ran (README, "`opsctl deploy`"). */

const layout = {
  root: '/srv/my app; v2',
  packages: [
    { name: 'backend', path: 'backend' },
    { name: 'web', path: './apps/web app/' },
  ],
};

describe('sourcePathsIn', () => {
  it('maps a release copy in a stack frame to the package source (relative to the app root)', () => {
    const line = '    at Object.<anonymous> (/srv/my app; v2/.opsctl/releases/backend/0123456789ab/src/app.js:43:9)';
    expect(sourcePathsIn(line, layout)).toBe('    at Object.<anonymous> (backend/src/app.js:43:9)');
  });

  it('maps `current`, file:// URLs (percent-encoded) and several paths on one line', () => {
    const url = 'file:///srv/my%20app;%20v2/.opsctl/releases/web/current/server.mjs:3';
    const abs = '/srv/my app; v2/.opsctl/releases/backend/abcdefabcdef/x.js:1:2';
    expect(sourcePathsIn(`${url} then ${abs}`, layout)).toBe('apps/web app/server.mjs:3 then backend/x.js:1:2');
  });

  it('leaves other paths alone, including another app that has a release folder', () => {
    const text = '/srv/other/.opsctl/releases/backend/0123456789ab/a.js:1 /srv/my app; v2/backend/a.js:2';
    expect(sourcePathsIn(text, layout)).toBe(text);
  });

  it('a package unknown to the layout is named by its folder under releases', () => {
    expect(sourcePathsIn('/srv/my app; v2/.opsctl/releases/gone/0123456789ab/a.js:1', layout)).toBe('gone/a.js:1');
  });

  it('agrees with displayPath for a single file', () => {
    const file = '/srv/my app; v2/.opsctl/releases/web/0123456789ab/routes/a.js';
    expect(sourcePathsIn(file, layout)).toBe(displayPath(file, layout));
  });
});
