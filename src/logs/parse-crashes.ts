import { type CrashEvent, STACK_LINES } from './crash-event.js';
import { parseJsonLogLine } from './json-line.js';
import { cleanFrame, isFrameLine, lineTimestamp, parseErrorHeader, topFrame } from './stack.js';

const CARET = /^\s*\^+\s*$/;
const NODE_TRAILER = /^Node\.js v\d+\.\d+\.\d+\s*$/;
const CRASH_WORDS = /uncaught|unhandled/i;
const OLD_REJECTION = /\[UnhandledPromiseRejection: (.*?)\]/;
const REJECTION_REASON = /The promise rejected with the reason (.*?)\.?$/;
/** How far below a stack we look for Node's trailer (an error's own properties may come first). */
const CONTEXT_LINES = 8;

/**
 * Find uncaught exceptions and unhandled rejections in log text:
 * - Node's own crash printout (`file:line`, source, caret, blank, `TypeError: …`, frames, `Node.js v20…`),
 *   including thrown non-Errors and `[UnhandledPromiseRejection: …]`;
 * - errors with a stack that a logger marks as uncaught / unhandled;
 * - structured (JSON) log lines at error level with a stack.
 * Errors logged with a stack but without such a marker are handled errors and are not reported.
 */
export function parseCrashes(text: string, root: string): CrashEvent[] {
  const lines = text.split('\n');
  const events: CrashEvent[] = [];
  let sinceTrailer = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const json = line.includes('{') ? parseJsonLogLine(line, root) : undefined;
    if (json) {
      events.push(json);
      continue;
    }
    if (NODE_TRAILER.test(line)) {
      if (!sinceTrailer) pushIfFound(events, thrownValue(lines, i));
      sinceTrailer = 0;
      continue;
    }
    const old = OLD_REJECTION.exec(line);
    if (old) {
      events.push(rejection(old[1]!, [], line, root));
      sinceTrailer++;
      continue;
    }
    const header = parseErrorHeader(line);
    if (!header || !isFrameLine(lines[i + 1])) continue;
    let end = i + 1;
    while (isFrameLine(lines[end])) end++;
    const frames = lines.slice(i + 1, end);
    if (!isCrash(lines, i, end, header.prefix)) {
      i = end - 1;
      continue;
    }
    events.push(
      header.type === 'UnhandledPromiseRejection'
        ? rejection(header.message, frames, line, root)
        : {
            type: header.type,
            message: header.message,
            frame: topFrame(frames, root),
            stack: [line.slice(header.prefix.length).trim(), ...frames.slice(0, STACK_LINES).map(cleanFrame)],
            timestamp: lineTimestamp(line) ?? lineTimestamp(lines[i - 1] ?? ''),
          },
    );
    sinceTrailer++;
    i = end - 1;
  }
  return events;
}

/**
 * Node marks its own crash printout with a caret above (caret, blank, header) and a version trailer below;
 * loggers say "uncaught" / "unhandled" on the header line or on the line just before it.
 */
function isCrash(lines: string[], header: number, stackEnd: number, prefix: string): boolean {
  if (CRASH_WORDS.test(prefix)) return true;
  const previous = lines.slice(Math.max(0, header - 3), header);
  if (previous.some((l) => CARET.test(l))) return true;
  const before = previous.filter((l) => l.trim()).at(-1);
  if (before && !isFrameLine(before) && CRASH_WORDS.test(before)) return true;
  // an error's own properties (`{ code: 'E_X' }`) may sit between the frames and the trailer
  for (let k = stackEnd; k < Math.min(lines.length, stackEnd + CONTEXT_LINES); k++) {
    if (NODE_TRAILER.test(lines[k]!)) return true;
    if (isFrameLine(lines[k]) || parseErrorHeader(lines[k]!)) break;
  }
  return false;
}

/** `throw 'boom'` prints `file:line`, source, caret, then the value itself, then the trailer. */
function thrownValue(lines: string[], trailer: number): CrashEvent | undefined {
  for (let k = trailer - 1; k >= Math.max(0, trailer - 8); k--) {
    if (!CARET.test(lines[k]!)) continue;
    // an Error printed without frames (Error.stackTraceLimit = 0) comes after a blank line
    const value =
      lines
        .slice(k + 1, trailer)
        .find((l) => l.trim())
        ?.trim() ?? '';
    const header = parseErrorHeader(value);
    const location = lines[k - 2]?.trim();
    return {
      type: header?.type ?? 'Uncaught',
      message: header?.message ?? value,
      frame: location,
      stack: [location ?? '', lines[k - 1]?.trim() ?? '', `Uncaught ${value}`].filter(Boolean),
      timestamp: lineTimestamp(location ?? ''),
    };
  }
  return undefined;
}

function rejection(text: string, frames: string[], line: string, root: string): CrashEvent {
  const reason = REJECTION_REASON.exec(text)?.[1];
  const message = reason ? `a promise rejected with ${reason}` : text;
  return {
    type: 'UnhandledPromiseRejection',
    message,
    frame: topFrame(frames, root),
    stack: [`UnhandledPromiseRejection: ${message}`, ...frames.slice(0, STACK_LINES).map(cleanFrame)],
    timestamp: lineTimestamp(line),
  };
}

function pushIfFound(events: CrashEvent[], event: CrashEvent | undefined): void {
  if (event) events.push(event);
}
