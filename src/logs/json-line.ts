import { type CrashEvent, STACK_LINES } from './crash-event.js';
import { cleanFrame, isFrameLine, parseErrorHeader, topFrame } from './stack.js';

const ERROR_LEVELS = new Set(['error', 'fatal', 'crit', 'critical', 'alert', 'emerg', 'emergency']);
const PINO_ERROR = 50;

type Json = Record<string, unknown>;

/**
 * A structured log line (pino, winston, bunyan) at error level or above that carries a stack:
 * `{"level":50,"time":…,"err":{"type":"TypeError","message":"…","stack":"TypeError: …\n    at …"}}`.
 */
export function parseJsonLogLine(line: string, root: string): CrashEvent | undefined {
  const start = line.indexOf('{');
  if (start < 0 || !line.includes('stack') || !line.trimEnd().endsWith('}')) return undefined;
  let obj: Json;
  try {
    obj = JSON.parse(line.slice(start)) as Json;
  } catch {
    return undefined;
  }
  if (!obj || typeof obj !== 'object' || !isErrorLevel(obj)) return undefined;
  const err = [obj.err, obj.error, obj.exception].find((e): e is Json => isObject(e) && typeof e.stack === 'string');
  const stack = typeof err?.stack === 'string' ? err.stack : typeof obj.stack === 'string' ? obj.stack : undefined;
  if (!stack) return undefined;
  const lines = stack.split('\n');
  const header = parseErrorHeader(lines[0] ?? '');
  const frames = lines.filter((l) => isFrameLine(l));
  const type = str(err?.type) ?? str(err?.name) ?? header?.type ?? 'Error';
  const message = str(err?.message) ?? header?.message ?? str(obj.msg) ?? str(obj.message) ?? '';
  return {
    type,
    message: message.split('\n')[0]!,
    frame: topFrame(frames, root),
    stack: [`${type}: ${message.split('\n')[0]}`, ...frames.slice(0, STACK_LINES).map(cleanFrame)],
    timestamp: jsonTime(obj),
  };
}

function isErrorLevel(obj: Json): boolean {
  const level = obj.level ?? obj.severity;
  if (level === undefined) return obj.exception === true || obj.stack !== undefined || obj.err !== undefined;
  if (typeof level === 'number') return level >= PINO_ERROR;
  return typeof level === 'string' && ERROR_LEVELS.has(level.toLowerCase());
}

function jsonTime(obj: Json): Date | undefined {
  const value = obj.time ?? obj.timestamp ?? obj['@timestamp'] ?? obj.date;
  if (typeof value !== 'number' && typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}
