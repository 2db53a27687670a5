import { type CrashEvent, STACK_LINES } from './crash-event.js';
import { cleanFrame, hasCrashMark, isFrameLine, parseErrorHeader, type SourceLayout, topFrame } from './stack.js';

const ERROR_LEVELS = new Set(['error', 'fatal', 'crit', 'critical', 'alert', 'emerg', 'emergency']);
const FATAL_LEVELS = new Set(['fatal', 'crit', 'critical', 'alert', 'emerg', 'emergency']);
const PINO_ERROR = 50;
const PINO_FATAL = 60;

type Json = Record<string, unknown>;

/** A JSON log line (pino, winston, bunyan) as an object, or undefined. */
export function parseJsonObject(line: string): Json | undefined {
  const text = line.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) return undefined;
  try {
    const obj = JSON.parse(text) as unknown;
    return isObject(obj) ? obj : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A structured log line at error level or above:
 * `{"level":50,"time":…,"err":{"type":"TypeError","message":"…","stack":"TypeError: …\n    at …"},"msg":"…"}`.
 * It is a crash at fatal level (what pino.final and winston's exception handler write for an uncaught exception)
 * or when its message names the event (`uncaughtException`, "unhandled rejection", winston's exception handler);
 * otherwise the app handled and logged it, whatever its message says ("uncaught error in handler, returned 500").
 */
export function parseJsonLogLine(line: string, layout: SourceLayout): CrashEvent | undefined {
  const obj = parseJsonObject(line);
  if (!obj || !isErrorLevel(obj)) return undefined;
  const err = [obj.err, obj.error, obj.exception].find((e): e is Json => isObject(e));
  const stack = str(err?.stack) ?? str(obj.stack) ?? '';
  const lines = stack.split('\n');
  const header = parseErrorHeader(lines[0] ?? '');
  const frames = lines.filter((l) => isFrameLine(l));
  const type = str(err?.type) ?? str(err?.name) ?? header?.type ?? 'Error';
  const message = (str(err?.message) ?? header?.message ?? str(obj.msg) ?? str(obj.message) ?? '').split('\n')[0]!;
  const said = [obj.msg, obj.message, err?.message].filter((v) => typeof v === 'string').join(' ');
  return {
    kind: isFatal(obj) || hasCrashMark(said) ? 'crash' : 'logged',
    type,
    message,
    frame: topFrame(frames, layout),
    stack: [`${type}: ${message}`, ...frames.slice(0, STACK_LINES).map((f) => cleanFrame(f, layout))],
    timestamp: jsonTime(obj),
  };
}

/** `level`/`severity` of a JSON entry: numbers are pino's, strings winston's and bunyan's names. */
function levelOf(obj: Json): number | string | undefined {
  const level = obj.level ?? obj.severity;
  if (typeof level === 'string') return level.toLowerCase();
  return typeof level === 'number' ? level : undefined;
}

function isErrorLevel(obj: Json): boolean {
  const level = levelOf(obj);
  if (level === undefined) return isObject(obj.err) || isObject(obj.error) || obj.exception !== undefined;
  return typeof level === 'number' ? level >= PINO_ERROR : ERROR_LEVELS.has(level);
}

function isFatal(obj: Json): boolean {
  const level = levelOf(obj);
  return typeof level === 'number' ? level >= PINO_FATAL : level !== undefined && FATAL_LEVELS.has(level);
}

/** The entry's own time: pino's `time` (ms), winston's `timestamp`, `@timestamp`. */
export function jsonTime(obj: Json): Date | undefined {
  const value = obj.time ?? obj.timestamp ?? obj['@timestamp'] ?? obj.date;
  if (typeof value !== 'number' && typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}
