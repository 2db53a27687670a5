import { usageError } from '../errors.js';
import { type Finding, type Severity, severityRank } from './types.js';

/** An `audit.ignore` entry of the config (README, "`opsctl audit`"). */
export interface IgnoreEntry {
  id: string;
  reason: string;
  /** YYYY-MM-DD, the last day the entry holds. */
  expires: string;
}

export interface PolicyOutcome {
  findings: Finding[];
  /** Unignored findings at or above the level. */
  failing: Finding[];
  /** Entries past their date: each is a failure, and ignores nothing. */
  expired: IgnoreEntry[];
  /** Entries that matched no finding: a warning. */
  unused: IgnoreEntry[];
}

/**
 * Mark ignored findings, and say what fails: unignored findings at or above `level`, and every expired entry.
 * An entry holds through its `expires` day (UTC); `now` is injectable for tests.
 */
export function applyPolicy(
  findings: Finding[],
  options: { level: Severity; ignore: IgnoreEntry[]; now?: Date },
): PolicyOutcome {
  const today = (options.now ?? new Date()).toISOString().slice(0, 10);
  const expired: IgnoreEntry[] = [];
  const active: IgnoreEntry[] = [];
  options.ignore.forEach((entry, i) => {
    if (!isCalendarDate(entry.expires)) {
      throw usageError(
        `audit.ignore[${i}].expires: expected a date (YYYY-MM-DD), got "${entry.expires}".`,
        'Write the last day the entry holds, e.g. 2027-01-31.',
      );
    }
    (entry.expires < today ? expired : active).push(entry);
  });
  const used = new Set<IgnoreEntry>();
  const marked = findings.map((f) => {
    const entry = active.find((e) => f.id === e.id || f.aliases.includes(e.id));
    if (!entry) return f;
    used.add(entry);
    return { ...f, ignored: true, ignoreReason: entry.reason };
  });
  const rank = severityRank(options.level);
  return {
    findings: marked,
    failing: marked.filter((f) => !f.ignored && severityRank(f.severity) >= rank),
    expired,
    unused: active.filter((e) => !used.has(e)),
  };
}

/** `YYYY-MM-DD` naming a real day (Date.parse takes 2027-02-30 and rolls it over to March). */
function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}
