const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^(\d+)\s*([smhdw])$/;

/** `90s`, `30m`, `24h`, `2d`, `1w` in milliseconds; undefined for anything else (README, "`opsctl doctor`"). */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}

const MS = /^(\d+)\s*(?:ms)?$/;

/**
 * An interval: `500ms`, `30s`, `5m`, `1h`; a bare number is milliseconds, as in `--timeout` (README, "`opsctl
 * watch`"). Undefined for anything else, zero included.
 */
export function parseInterval(text: string | number): number | undefined {
  const value = String(text).trim().toLowerCase();
  const ms = MS.exec(value);
  if (!ms) return parseDuration(value);
  const n = Number(ms[1]);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}
