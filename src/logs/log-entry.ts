import { isSecretName } from '../output/redact.js';
import { jsonTime, parseJsonObject } from './json-line.js';
import { splitStamp } from './pm2-stamp.js';

const PINO_LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** One line of a package's log, as `opsctl logs` shows it: a JSON line is read into its parts. */
export interface LogEntry {
  package: string;
  /** PM2's instance, when its logs are kept per instance (`backend-out-1.log`). */
  instance?: number;
  stream: 'out' | 'error';
  /** PM2's stamp or the JSON entry's own time; a line without one takes the time of the line before it. */
  time?: Date;
  /** A JSON entry's level (`info`, `error`); undefined for plain text. */
  level?: string;
  /** The text: a JSON entry's message, else the line as written (with PM2's stamp). */
  message: string;
  /** A JSON entry's other fields, as shown after the message: `GET /api/orders 500 (12 ms) orderId=7`. */
  context?: string;
  /** A JSON entry's error stack, one line per frame. */
  stack?: string[];
}

/** Fields every logger writes, shown elsewhere (level, time, message, stack) or of no use on call. */
const SHOWN_ELSEWHERE = new Set([
  'level',
  'time',
  'timestamp',
  '@timestamp',
  'msg',
  'message',
  'err',
  'error',
  'stack',
]);
const NOT_USEFUL = new Set(['pid', 'hostname', 'name', 'v', 'req', 'res', 'responseTime']);
const MAX_FIELD_CHARS = 120;

/** Where lines come from. */
export type LogOrigin = Pick<LogEntry, 'package' | 'instance' | 'stream'>;

/** The entries of a chunk of log text (`previous`: the time of the line before the chunk, when known). */
export function parseLogLines(text: string, origin: LogOrigin, previous?: Date): LogEntry[] {
  const entries: LogEntry[] = [];
  let last = previous;
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    const { text: line, stamp } = splitStamp(raw);
    const json = parseJsonObject(line);
    const entry = json ? jsonEntry(json, origin) : { ...origin, message: raw };
    entry.time = entry.time ?? stamp ?? last;
    last = entry.time;
    entries.push(entry);
  }
  return entries;
}

/** A pino / winston / bunyan line: level, time, message and the error's stack with real line breaks. */
function jsonEntry(json: Record<string, unknown>, origin: LogOrigin): LogEntry {
  const level = typeof json.level === 'number' ? PINO_LEVELS[json.level] : json.level;
  const err = [json.err, json.error].find((e): e is Record<string, unknown> => typeof e === 'object' && e !== null);
  const message = [json.msg, json.message, err?.message].find((m) => typeof m === 'string' && m) as string | undefined;
  const stack = typeof err?.stack === 'string' ? err.stack : typeof json.stack === 'string' ? json.stack : undefined;
  const context = message === undefined ? '' : contextOf(json);
  return {
    ...origin,
    ...(jsonTime(json) ? { time: jsonTime(json) } : {}),
    ...(typeof level === 'string' ? { level } : {}),
    message: message ?? JSON.stringify(json),
    ...(context ? { context } : {}),
    ...(stack ? { stack: stack.split('\n') } : {}),
  };
}

/**
 * What else the entry says, in one line: the request (pino-http's `req`/`res`/`responseTime`: `GET /api/orders 500
 * (12 ms)`), then each other field as `key=value`. A field whose name says it holds a secret shows `****`.
 */
function contextOf(json: Record<string, unknown>): string {
  const req = typeof json.req === 'object' && json.req ? (json.req as Record<string, unknown>) : {};
  const res = typeof json.res === 'object' && json.res ? (json.res as Record<string, unknown>) : {};
  const request = [
    typeof req.method === 'string' ? req.method : '',
    typeof req.url === 'string' ? req.url : '',
    typeof res.statusCode === 'number' ? String(res.statusCode) : '',
    typeof json.responseTime === 'number' ? `(${Math.round(json.responseTime)} ms)` : '',
  ].filter(Boolean);
  const fields = Object.entries(json)
    .filter(([key, value]) => !SHOWN_ELSEWHERE.has(key) && !NOT_USEFUL.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${isSecretName(key) ? '****' : fieldText(value)}`);
  return [...request, ...fields].join(' ');
}

function fieldText(value: unknown): string {
  const text = typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return text.length > MAX_FIELD_CHARS ? `${text.slice(0, MAX_FIELD_CHARS - 1)}…` : text;
}

/** `/regex/flags` as a regular expression, anything else as a plain substring to look for. */
export function textMatcher(pattern: string): (text: string) => boolean {
  const regex = /^\/(.+)\/([gimsuy]*)$/.exec(pattern);
  if (regex) {
    const re = new RegExp(regex[1]!, regex[2]!.replace('g', ''));
    return (text) => re.test(text);
  }
  return (text) => text.includes(pattern);
}

/** The entry as lines of text: `<time> <LEVEL> <message>` and its stack for JSON, the line itself otherwise. */
export function entryLines(entry: LogEntry): string[] {
  if (entry.level === undefined && !entry.stack) return [entry.message];
  const time = entry.time ? `${entry.time.toISOString()} ` : '';
  const head = `${time}${(entry.level ?? '').toUpperCase().padEnd(5)} ${entry.message}${entry.context ? ` ${entry.context}` : ''}`;
  return [head, ...(entry.stack ?? []).map((l) => `  ${l.trimEnd()}`)];
}
