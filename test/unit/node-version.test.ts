import { describe, expect, it } from 'vitest';
import { checkEngines, satisfies } from '../../src/checks/node-version.js';

describe('satisfies', () => {
  it.each([
    ['20.11.0', '>=20', true],
    ['20.11.0', '>=22.12.0', false],
    ['20.11.0', '^20.10.0', true],
    ['21.0.0', '^20.10.0', false],
    ['20.11.0', '^18 || ^20', true],
    ['20.11.0', '~20.11', true],
    ['20.12.0', '~20.11', false],
    ['20.11.0', '20.x', true],
    ['22.1.0', '20', false],
    ['20.11.0', '>=18 <21', true],
    ['20.11.0', '18 - 20', true],
    ['20.11.0', '*', true],
  ])('%s in %s → %s', (version, range, expected) => {
    expect(satisfies(version, range)).toBe(expected);
  });
});

describe('checkEngines', () => {
  it('fails naming each package whose engines.node excludes the running version', () => {
    const result = checkEngines('20.11.0', [
      { name: 'backend', range: '>=22' },
      { name: 'frontend', range: '>=18' },
      { name: 'lib' },
    ]);
    expect(result.status).toBe('fail');
    expect(result.message).toBe('Node.js 20.11.0 does not satisfy backend (engines.node >=22)');
    expect(result.hint).toContain('nvm');
  });

  it('passes and says when nothing is declared', () => {
    expect(checkEngines('20.11.0', [{ name: 'a' }])).toMatchObject({
      status: 'pass',
      message: expect.stringContaining('no package declares'),
    });
  });
});
