import { type CrashEvent, STACK_LINES } from './crash-event.js';
import { parseJsonLogLine } from './json-line.js';
import { type LogLine, splitStamp } from './pm2-stamp.js';
import {
  cleanFrame,
  hasCrashMark,
  isFrameLine,
  lineTimestamp,
  parseErrorHeader,
  type SourceLayout,
  topFrame,
} from './stack.js';

const CARET = /^\s*\^+\s*$/;
const NODE_TRAILER = /^Node\.js v\d+\.\d+\.\d+\s*$/;
/** Node's "Uncaught TypeError: …" (the REPL, the inspector): the word right before the error, capitalised. */
const NODE_UNCAUGHT = /(?:^|\s)Uncaught\s*$/;
/** PM2's cluster-mode handler writes the reason on the next line: a stack, or a non-Error as text. */
const PM2_REJECTION =
  /^You have triggered an unhandledRejection, you may have forgotten to catch a Promise rejection:\s*$/;
/** An Error's message may span lines (`query failed:` / `SELECT …`): at most this many before its frames. */
const MESSAGE_LINES = 10;
const OLD_REJECTION = /\[UnhandledPromiseRejection: (.*?)\]/;
const REJECTION_REASON = /The promise rejected with the reason (.*?)\.?$/;
/** An error printed inside another's properties (`[cause]: Error: …`) belongs to that error. */
const NESTED = /\[(?:cause|errors)\]:\s*\[?\s*$/;
/** How far below a stack we look for Node's trailer (an error's own properties may come first). */
const CONTEXT_LINES = 16;
/** PM2 logs an app's exit at most this long after the app printed its last words (stamps have 1 s steps). */
const EXIT_WINDOW_MS = 5_000;

/** What the parser knows about the file besides its text. */
export interface ParseOptions extends SourceLayout {
  /** The file is one of PM2's logs of an app (`<home>/logs/<app>-error.log`). */
  pm2?: boolean;
  /** PM2 stamps this app's output (`time: true`), as its other log shows; else judged from this file alone. */
  stamped?: boolean;
  /** When PM2 saw this app exit with a non-zero code (its `pm2.log`). */
  failedExits?: Date[];
  /** The file's last write: the time of an entry that carries none (nor a stamped line after it). */
  mtime?: Date;
}

/**
 * Find errors in log text; `kind: 'crash'` for uncaught exceptions and unhandled rejections:
 * - Node's own crash printout (`file:line`, source, caret, blank, `TypeError: …`, frames, `Node.js v20…`),
 *   including thrown non-Errors and `[UnhandledPromiseRejection: …]`;
 * - errors with a stack that a logger or PM2 marks as an uncaught exception / unhandled rejection (the event's name,
 *   not the word "uncaught" or "unhandled" alone), and PM2's "You have triggered an unhandledRejection" with a
 *   non-Error reason;
 * - an Error's message of several lines (`Error: query failed:` / `SELECT …` / frames) is read as one;
 * - in a PM2 log written with `time: true`, a stack PM2's cluster-mode handler wrote unstamped, and a stack
 *   printed within seconds before PM2 saw the app exit with a non-zero code (fork mode);
 * - JSON log lines at fatal level or naming the event.
 * Errors logged with a stack but without such a sign, and JSON lines at error level, are `logged`.
 */
export function parseCrashes(text: string, options: ParseOptions): CrashEvent[] {
  const lines = text.split('\n').map(splitStamp);
  const stamped = options.pm2 === true && (options.stamped ?? lines.some((l) => l.stamp));
  const events: CrashEvent[] = [];
  /** Stamped stacks that a failed exit came right after: the last one before each exit is the crash. */
  const beforeExit: CrashEvent[] = [];
  let sinceTrailer = 0;
  for (let i = 0; i < lines.length; i++) {
    const { text: line, stamp } = lines[i]!;
    const json = line.includes('{') ? parseJsonLogLine(line, options) : undefined;
    if (json) {
      push(events, { ...json, timestamp: json.timestamp ?? timeAt(lines, i) });
      continue;
    }
    if (NODE_TRAILER.test(line)) {
      if (!sinceTrailer) push(events, thrownValue(lines, i, options));
      sinceTrailer = 0;
      continue;
    }
    const old = OLD_REJECTION.exec(line);
    if (old) {
      push(events, rejection(old[1]!, [], timeAt(lines, i), options));
      sinceTrailer++;
      continue;
    }
    if (PM2_REJECTION.test(line)) {
      const reason = lines[i + 1]?.text.trim();
      if (reason && !parseErrorHeader(reason)) {
        push(events, rejection(reason, [], timeAt(lines, i), options));
        sinceTrailer++;
        i++;
      }
      continue;
    }
    const header = parseErrorHeader(line);
    if (!header || NESTED.test(header.prefix)) continue;
    const first = messageEnd(lines, i);
    if (!isFrameLine(lines[first]?.text)) continue;
    let end = first;
    while (isFrameLine(lines[end]?.text)) end++;
    const frames = lines.slice(first, end).map((l) => l.text);
    const more = lines.slice(i + 1, first).map((l) => l.text.trim());
    const message = [header.message, ...more].join(' ');
    const at = timeAt(lines, i);
    const crash = isCrash(lines, i, end, header.prefix) || (stamped && !stamp && !header.prefix.trim());
    if (crash && header.type === 'UnhandledPromiseRejection') {
      push(events, rejection(message, frames, at, options));
    } else {
      const event: CrashEvent = {
        kind: crash ? 'crash' : 'logged',
        type: header.type,
        message,
        frame: topFrame(frames, options),
        stack: [
          [line.slice(header.prefix.length).trim(), ...more].join(' '),
          ...frames.slice(0, STACK_LINES).map((f) => cleanFrame(f, options)),
        ],
        timestamp: at,
      };
      if (!crash && stamp && exitedAfter(stamp, options.failedExits)) beforeExit.push(event);
      push(events, event);
    }
    if (crash) sinceTrailer++;
    i = end - 1;
  }
  for (const exit of options.failedExits ?? []) {
    const window = events.filter((e) => e.timestamp && exitedAfter(e.timestamp, [exit]));
    if (window.some((e) => e.kind === 'crash')) continue;
    const last = beforeExit.filter((e) => window.includes(e)).at(-1);
    if (last) last.kind = 'crash';
  }
  // the file's time is only a bound: applied after `push` compared the entries' own times
  return options.mtime ? events.map((e) => ({ ...e, timestamp: e.timestamp ?? options.mtime })) : events;
}

/**
 * Where an error's frames start: after its header, and after the further lines of a message that spans lines,
 * written like the header (stamped or not), none of them blank, another error, a caret or a log line of its own.
 */
function messageEnd(lines: LogLine[], header: number): number {
  const stamped = lines[header]!.stamp !== undefined;
  let k = header + 1;
  while (k < Math.min(lines.length, header + 1 + MESSAGE_LINES)) {
    const { text, stamp } = lines[k]!;
    if (isFrameLine(text) || !text.trim() || (stamp !== undefined) !== stamped) break;
    if (parseErrorHeader(text) || CARET.test(text) || lineTimestamp(text) || text.trim().startsWith('{')) break;
    k++;
  }
  return isFrameLine(lines[k]?.text) ? k : header + 1;
}

/**
 * Node marks its own crash printout with a caret above (caret, blank, header) and a version trailer below;
 * loggers and PM2 ("You have triggered an unhandledRejection") name the event on the header line or on the line
 * just before it (README, "The `logs` check").
 */
function isCrash(lines: LogLine[], header: number, stackEnd: number, prefix: string): boolean {
  if (hasCrashMark(prefix) || NODE_UNCAUGHT.test(prefix)) return true;
  const previous = lines.slice(Math.max(0, header - 3), header).map((l) => l.text);
  if (previous.some((l) => CARET.test(l))) return true;
  const before = previous.filter((l) => l.trim()).at(-1);
  if (before && !isFrameLine(before) && hasCrashMark(before)) return true;
  // an error's own properties (`{ code: 'E_X' }`, `[cause]: …` with its frames) may sit between the frames and
  // the trailer; another error's header ends the search
  for (let k = stackEnd; k < Math.min(lines.length, stackEnd + CONTEXT_LINES); k++) {
    const text = lines[k]!.text;
    if (NODE_TRAILER.test(text)) return true;
    const next = parseErrorHeader(text);
    if (next && !NESTED.test(next.prefix)) break;
  }
  return false;
}

/** A fork-mode app printed this and then PM2 saw it exit with a failure code. */
function exitedAfter(stamp: Date, exits: Date[] | undefined): boolean {
  return (exits ?? []).some((exit) => {
    const after = exit.getTime() - stamp.getTime();
    return after >= 0 && after <= EXIT_WINDOW_MS;
  });
}

/** `throw 'boom'` prints `file:line`, source, caret, then the value itself, then the trailer. */
function thrownValue(lines: LogLine[], trailer: number, options: ParseOptions): CrashEvent | undefined {
  for (let k = trailer - 1; k >= Math.max(0, trailer - 8); k--) {
    if (!CARET.test(lines[k]!.text)) continue;
    // an Error printed without frames (Error.stackTraceLimit = 0) comes after a blank line
    const value =
      lines
        .slice(k + 1, trailer)
        .find((l) => l.text.trim())
        ?.text.trim() ?? '';
    const header = parseErrorHeader(value);
    const location = lines[k - 2]?.text.trim();
    return {
      kind: 'crash',
      type: header?.type ?? 'Uncaught',
      message: header?.message ?? value,
      frame: location ? topFrame([`    at ${location}:0`], options) : undefined,
      stack: [location ?? '', lines[k - 1]?.text.trim() ?? '', `Uncaught ${value}`].filter(Boolean),
      timestamp: timeAt(lines, Math.max(0, k - 2)),
    };
  }
  return undefined;
}

function rejection(text: string, frames: string[], at: Date | undefined, layout: SourceLayout): CrashEvent {
  const reason = REJECTION_REASON.exec(text)?.[1];
  const message = reason ? `a promise rejected with ${reason}` : text;
  return {
    kind: 'crash',
    type: 'UnhandledPromiseRejection',
    message,
    frame: topFrame(frames, layout),
    stack: [`UnhandledPromiseRejection: ${message}`, ...frames.slice(0, STACK_LINES).map((f) => cleanFrame(f, layout))],
    timestamp: at,
  };
}

/**
 * When line `i` was written: PM2's stamp, a timestamp on the line or the one before it; for an unstamped line
 * (PM2's own crash output in a stamped log), the next stamped line. Else undefined: the file's last write then.
 */
function timeAt(lines: LogLine[], i: number): Date | undefined {
  const line = lines[i]!;
  const own = line.stamp ?? lineTimestamp(line.text) ?? (i > 0 ? lineTimestamp(lines[i - 1]!.text) : undefined);
  if (own) return own;
  for (let k = i + 1; k < lines.length; k++) if (lines[k]!.stamp) return lines[k]!.stamp;
  return undefined;
}

/**
 * Add an event, unless it repeats the one before it within a second (PM2's wrapper and then the app's own handler
 * printing one error): then the one kept is a crash if either is.
 */
function push(events: CrashEvent[], event: CrashEvent | undefined): void {
  if (!event) return;
  const last = events.at(-1);
  const same =
    last &&
    last.type === event.type &&
    last.message === event.message &&
    last.frame === event.frame &&
    last.timestamp !== undefined &&
    event.timestamp !== undefined &&
    Math.abs(last.timestamp.getTime() - event.timestamp.getTime()) <= 1_000;
  if (!same) events.push(event);
  else if (event.kind === 'crash') last.kind = 'crash';
}
