import { hostname } from 'node:os';

// pino's numeric levels, so log tooling (and `opsctl doctor`'s logs check) reads these lines as pino output.
export const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** Error as pino serialises it: `{ type, message, stack }`, plus `code` and `cause` when present. */
export function serializeError(err) {
  if (!(err instanceof Error)) return { type: typeof err, message: String(err), stack: undefined };
  const out = { type: err.name || err.constructor?.name || 'Error', message: err.message, stack: err.stack };
  if (err.code !== undefined) out.code = err.code;
  if (err.cause !== undefined) out.cause = serializeError(err.cause);
  return out;
}

/**
 * A JSON-lines logger: one `{"level":30,"time":...,"pid":...,"hostname":...,"msg":...}` object per line.
 * `stream` is stdout by default; the process manager decides where the lines end up (e.g. logs/*.log).
 */
export function createLogger({ level = process.env.LOG_LEVEL || 'info', stream = process.stdout, bindings = {} } = {}) {
  const threshold = LEVELS[level] ?? LEVELS.info;
  const base = { pid: process.pid, hostname: hostname(), ...bindings };
  const write = (levelValue, fields, msg) => {
    if (levelValue < threshold) return;
    let extra = fields;
    if (fields instanceof Error) extra = { err: fields };
    if (typeof fields === 'string') {
      msg = fields;
      extra = {};
    }
    const entry = { level: levelValue, time: Date.now(), ...base, ...extra, msg };
    if (entry.err !== undefined) entry.err = serializeError(entry.err);
    stream.write(`${JSON.stringify(entry)}\n`);
  };
  const logger = { child: (more) => createLogger({ level, stream, bindings: { ...bindings, ...more } }) };
  for (const [name, value] of Object.entries(LEVELS)) logger[name] = (fields, msg) => write(value, fields, msg);
  return logger;
}
