import { describe, expect, it } from 'vitest';
import { MAX_NAME_LENGTH, nextVersion, slugify, verifyMigrationName } from '../../src/db/migrate/create.js';
import { compareState, hasFindings, planDown, planUp, verifyNoDrift } from '../../src/db/migrate/plan.js';
import type { MigrationSource } from '../../src/db/migrate/sources.js';
import type { AppliedRow } from '../../src/db/migrate/state.js';
import { opsErrorOf } from '../helpers/errors.js';

const source = (name: string, checksum = `sum-${name}`): MigrationSource => ({
  name,
  version: name.split('_')[0]!,
  kind: 'sql',
  path: `/m/${name}.sql`,
  checksum,
});
const row = (name: string, checksum = `sum-${name}`): AppliedRow => ({
  name,
  checksum,
  appliedAt: new Date('2026-01-02T03:04:05Z'),
  durationMs: 1,
});

const sources = ['0001_a', '0002_b', '0003_c', '0004_d'].map((n) => source(n));

describe('compareState', () => {
  it('accepts the whole-file checksum an older opsctl stored for a single-file SQL migration (issue 9)', () => {
    const upgraded = { ...source('0001_a', 'up-part'), legacyChecksum: 'whole-file' };
    expect(compareState([upgraded], [row('0001_a', 'whole-file')]).drifted).toEqual([]);
    expect(compareState([upgraded], [row('0001_a', 'up-part')]).drifted).toEqual([]);
    expect(compareState([upgraded], [row('0001_a', 'something-else')]).drifted).toEqual(['0001_a']);
  });

  it('sorts files and rows into executed, pending, drifted and missing', () => {
    const status = compareState(sources, [row('0001_a'), row('0002_b', 'old'), row('0000_gone')]);
    expect(status).toEqual({
      executed: [
        { name: '0001_a', appliedAt: '2026-01-02T03:04:05.000Z' },
        { name: '0002_b', appliedAt: '2026-01-02T03:04:05.000Z' },
        { name: '0000_gone', appliedAt: '2026-01-02T03:04:05.000Z' },
      ],
      pending: ['0003_c', '0004_d'],
      drifted: ['0002_b'],
      missing: ['0000_gone'],
    });
    expect(hasFindings(status)).toBe(true);
    expect(
      hasFindings(
        compareState(
          sources,
          sources.map((s) => row(s.name)),
        ),
      ),
    ).toBe(false);
  });
});

describe('planUp', () => {
  const status = compareState(sources, [row('0001_a')]);
  it('all pending by default, the next n with step, up to and including `to`', () => {
    expect(planUp(sources, status, {}).map((s) => s.name)).toEqual(['0002_b', '0003_c', '0004_d']);
    expect(planUp(sources, status, { step: 1 }).map((s) => s.name)).toEqual(['0002_b']);
    expect(planUp(sources, status, { to: '0003_c' }).map((s) => s.name)).toEqual(['0002_b', '0003_c']);
    expect(planUp(sources, status, { to: '0001_a' })).toEqual([]);
  });
  it('an unknown --to, or --to with --step, is a usage error', () => {
    expect(opsErrorOf(() => planUp(sources, status, { to: '0009_x' }))).toEqual({
      exitCode: 2,
      message: '--to 0009_x: no such migration.',
    });
    expect(opsErrorOf(() => planUp(sources, status, { to: '0003_c', step: 1 })).exitCode).toBe(2);
  });
});

describe('planDown', () => {
  const status = compareState(sources, [row('0001_a'), row('0002_b'), row('0003_c')]);
  it('the last one by default, newest first; step; to (inclusive); all', () => {
    expect(planDown(sources, status, {}).map((s) => s.name)).toEqual(['0003_c']);
    expect(planDown(sources, status, { step: 2 }).map((s) => s.name)).toEqual(['0003_c', '0002_b']);
    expect(planDown(sources, status, { to: '0002_b' }).map((s) => s.name)).toEqual(['0003_c', '0002_b']);
    expect(planDown(sources, status, { all: true }).map((s) => s.name)).toEqual(['0003_c', '0002_b', '0001_a']);
  });
  it('--to a pending migration is a usage error; a missing file cannot be reverted', () => {
    expect(opsErrorOf(() => planDown(sources, status, { to: '0004_d' }))).toEqual({
      exitCode: 2,
      message: '--to 0004_d: that migration is not applied.',
    });
    const gone = compareState(sources, [row('0001_a'), row('0005_gone')]);
    expect(opsErrorOf(() => planDown(sources, gone, {})).message).toContain('Cannot roll back 0005_gone');
  });
});

describe('verifyNoDrift', () => {
  it('refuses drift and missing with exit 1 unless allowed', () => {
    const status = compareState(sources, [row('0001_a', 'changed')]);
    expect(opsErrorOf(() => verifyNoDrift(status, false))).toEqual({
      exitCode: 1,
      message: 'Refusing to migrate: migrations changed since they were applied: 0001_a.',
    });
    expect(() => verifyNoDrift(status, true)).not.toThrow();
    expect(() => verifyNoDrift(compareState(sources, []), false)).not.toThrow();
  });
});

describe('migrate create numbering', () => {
  const now = new Date('2026-03-04T05:06:07Z');
  it('continues a zero-padded sequence at its width (4 by default)', () => {
    expect(nextVersion([], now)).toEqual({ version: '0001', numbering: 'sequence' });
    expect(nextVersion(['0001', '0009'], now)).toEqual({ version: '0010', numbering: 'sequence' });
    expect(nextVersion(['001', '002'], now)).toEqual({ version: '0003', numbering: 'sequence' });
    expect(nextVersion(['000001'], now)).toEqual({ version: '000002', numbering: 'sequence' });
  });
  it('continues a timestamp style, staying after the newest', () => {
    expect(nextVersion(['20240101120000'], now)).toEqual({ version: '20260304050607', numbering: 'timestamp' });
    expect(nextVersion(['202401011200'], now)).toEqual({ version: '202603040506', numbering: 'timestamp' });
    expect(nextVersion(['20990101000000'], now)).toEqual({ version: '20990101000001', numbering: 'timestamp' });
  });
  it('slugifies names', () => {
    expect(slugify('Add order status!')).toBe('add_order_status');
    expect(slugify('  --  ')).toBe('');
  });
});

describe('verifyMigrationName (issue 9)', () => {
  it('returns the slug of a usable name, accents folded', () => {
    expect(verifyMigrationName('Add order status!')).toBe('add_order_status');
    expect(verifyMigrationName('añadir pedidos')).toBe('anadir_pedidos');
    expect(verifyMigrationName('../../etc/passwd')).toBe('etc_passwd');
    expect(verifyMigrationName('x'.repeat(MAX_NAME_LENGTH))).toBe('x'.repeat(MAX_NAME_LENGTH));
  });
  it('a name too long for a file name is a usage error saying the limit', () => {
    expect(MAX_NAME_LENGTH).toBe(100);
    expect(opsErrorOf(() => verifyMigrationName('x'.repeat(300)))).toEqual({
      exitCode: 2,
      message:
        'The migration name is 300 characters long; it can be at most 100 characters (it becomes part of a file name).',
    });
    expect(opsErrorOf(() => verifyMigrationName('x'.repeat(MAX_NAME_LENGTH + 1))).exitCode).toBe(2);
  });
  it('a name with no letters or digits is a usage error', () => {
    for (const bad of ['', '  --  ', '日本語', '\n\t'])
      expect(opsErrorOf(() => verifyMigrationName(bad)).message).toContain('is not a usable migration name');
  });
});
