import { describe, expect, it } from 'vitest';
import { CHECK_IDS } from '../../src/checks/ids.js';
import { doctorChecks } from '../../src/checks/index.js';
import type { ResolvedConfig } from '../../src/config/types.js';

describe('CHECK_IDS', () => {
  it('names every check doctor runs, in report order (doctor --help lists them)', () => {
    const config = { packages: [{ name: 'backend' }, { name: 'frontend' }] } as unknown as ResolvedConfig;
    const ids = doctorChecks(config).map((c) => c.id.split(':')[0]);
    expect(ids.filter((id, i) => ids.indexOf(id) === i)).toEqual([...CHECK_IDS]);
  });
});
