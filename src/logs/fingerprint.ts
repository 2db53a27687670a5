import type { CrashEvent } from './crash-event.js';

/** Crashes with one fingerprint: how often, when last, where. */
export interface CrashGroup {
  fingerprint: string;
  type: string;
  /** The message of the latest occurrence (not normalised), unredacted: redact before printing. */
  message: string;
  frame?: string;
  count: number;
  lastSeen: Date;
  files: string[];
  stack: string[];
}

/**
 * The same bug with a different order id or address is one signature: numbers, hex, UUIDs and
 * quoted ids in the message are replaced before comparing.
 */
export function normaliseMessage(message: string): string {
  return message
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/\b0x[0-9a-f]+\b/gi, '<hex>')
    .replace(/\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi, '<hex>')
    .replace(/\d+/g, '<n>');
}

export function fingerprint(event: CrashEvent): string {
  return [event.type, normaliseMessage(event.message), event.frame ?? ''].join('|');
}

/** Group events found in one file (`when` is the file's mtime, used for events without a timestamp). */
export function groupCrashes(found: Array<{ file: string; events: CrashEvent[]; mtime: Date }>): CrashGroup[] {
  const groups = new Map<string, CrashGroup>();
  for (const { file, events, mtime } of found) {
    for (const event of events) {
      const key = fingerprint(event);
      const seen = event.timestamp ?? mtime;
      const group = groups.get(key);
      if (!group) {
        groups.set(key, {
          fingerprint: key,
          type: event.type,
          message: event.message,
          frame: event.frame,
          count: 1,
          lastSeen: seen,
          files: [file],
          stack: event.stack,
        });
        continue;
      }
      group.count++;
      if (!group.files.includes(file)) group.files.push(file);
      if (seen >= group.lastSeen) Object.assign(group, { lastSeen: seen, message: event.message, stack: event.stack });
    }
  }
  for (const group of groups.values()) group.files.sort();
  // the most frequent first; among equals, the most recent
  return [...groups.values()].sort((a, b) => b.count - a.count || b.lastSeen.getTime() - a.lastSeen.getTime());
}
