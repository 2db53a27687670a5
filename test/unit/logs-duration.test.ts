import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/logs/duration.js';

describe('parseDuration', () => {
  it('reads seconds, minutes, hours, days and weeks', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('1w')).toBe(604_800_000);
  });

  it('refuses what is not a positive duration with a unit', () => {
    for (const bad of ['', '30', 'm', '0m', '-1h', '1.5h', '2 days', '1y']) expect(parseDuration(bad)).toBeUndefined();
  });
});
