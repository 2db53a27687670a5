import { describe, expect, it } from 'vitest';
import type { CrashEvent } from '../../src/logs/crash-event.js';
import { fingerprint, groupCrashes, normaliseMessage } from '../../src/logs/fingerprint.js';

const event = (message: string, extra: Partial<CrashEvent> = {}): CrashEvent => ({
  kind: 'crash',
  type: 'Error',
  message,
  frame: 'backend/app.js:10',
  stack: [`Error: ${message}`],
  ...extra,
});

describe('normaliseMessage', () => {
  it('replaces numbers, hex, uuids and ids so one bug is one signature', () => {
    expect(normaliseMessage('order 123 not found')).toBe('order <n> not found');
    expect(normaliseMessage('connect ECONNREFUSED 10.0.0.5:5432')).toBe('connect ECONNREFUSED <n>.<n>.<n>.<n>:<n>');
    expect(normaliseMessage('session 3f2a9c1e-0b1d-4c5e-9f00-1a2b3c4d5e6f expired')).toBe('session <uuid> expired');
    expect(normaliseMessage('bad pointer 0xdeadbeef')).toBe('bad pointer <hex>');
    expect(normaliseMessage('job 5f1c9a0b2e3d expired')).toBe('job <hex> expired');
    expect(normaliseMessage("Cannot read properties of undefined (reading 'id')")).toBe(
      "Cannot read properties of undefined (reading 'id')",
    );
  });
});

describe('fingerprint and groupCrashes', () => {
  it('tells apart errors of another type, message or frame', () => {
    const base = fingerprint(event('x 1'));
    expect(fingerprint(event('x 2'))).toBe(base);
    expect(fingerprint(event('y 1'))).not.toBe(base);
    expect(fingerprint(event('x 1', { type: 'TypeError' }))).not.toBe(base);
    expect(fingerprint(event('x 1', { frame: 'backend/app.js:11' }))).not.toBe(base);
  });

  it('counts across files, keeps the latest occurrence and falls back to the file time', () => {
    const mtimeA = new Date('2026-11-20T00:00:00Z');
    const mtimeB = new Date('2026-11-25T00:00:00Z');
    const groups = groupCrashes([
      {
        file: 'a.log',
        mtime: mtimeA,
        events: [event('timeout 100', { timestamp: new Date('2026-11-26T03:12:00Z') }), event('other')],
      },
      { file: 'b.log', mtime: mtimeB, events: [event('timeout 200')] },
    ]);
    expect(groups).toHaveLength(2);
    expect(groups[0]).toMatchObject({ count: 2, files: ['a.log', 'b.log'], message: 'timeout 100' });
    expect(groups[0]!.lastSeen.toISOString()).toBe('2026-11-26T03:12:00.000Z');
    expect(groups[1]).toMatchObject({ count: 1, message: 'other', lastSeen: mtimeA });
  });
});
