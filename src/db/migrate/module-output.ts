import { redact } from '../../output/redact.js';

type Write = NodeJS.WriteStream['write'];
type WriteCallback = (err?: Error | null) => void;

/**
 * Run a migration module's code (its import, its `up`/`down`) with what it prints kept off stdout: writes to
 * process.stdout (console.log, info, debug, direct writes) go to stderr, and both streams pass through `redact`.
 * A migration logging its DATABASE_URL must neither leak the password nor break the one JSON document on
 * stdout under --json (README, "`opsctl migrate`...").
 */
export async function withModuleOutputOnStderr<T>(fn: () => Promise<T>): Promise<T> {
  const { stdout, stderr } = process;
  const stdoutWrite = stdout.write;
  const stderrWrite = stderr.write;
  const toStderr = redactingWrite(stderr, stderrWrite);
  stdout.write = toStderr;
  stderr.write = toStderr;
  try {
    return await fn();
  } finally {
    stdout.write = stdoutWrite;
    stderr.write = stderrWrite;
  }
}

function redactingWrite(target: NodeJS.WriteStream, write: Write): Write {
  return ((
    chunk: string | Uint8Array,
    encodingOrCallback?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): boolean => {
    const encoding = typeof encodingOrCallback === 'string' ? encodingOrCallback : undefined;
    const text =
      typeof chunk === 'string' ? Buffer.from(chunk, encoding).toString('utf8') : Buffer.from(chunk).toString('utf8');
    const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    return (write as (chunk: string, callback?: WriteCallback) => boolean).call(target, redact(text), done);
  }) as Write;
}
