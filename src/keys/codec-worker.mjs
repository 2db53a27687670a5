// The worker thread of codec.ts: loads the app's encryption module in a thread of its own (its own environment,
// holding only the key variable, and its own module cache), then answers batches. Plain JavaScript, not bundled:
// the build copies it beside the chunk that starts it. Nothing here prints; of the app module's errors only a load
// failure's name and text are sent back (the caller shows the text only when it does not depend on the key); for
// values, only which ones failed.
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';

const { modulePath, encryptName, decryptName } = workerData;

function pick(mod, name) {
  if (typeof mod?.[name] === 'function') return mod[name];
  const fallback = mod?.default;
  if (typeof fallback?.[name] === 'function') return fallback[name].bind(fallback);
  return undefined;
}

/** A plaintext: a string, bytes, or a JSON-like value (an object, an array, a number); no answer, false or a function is none. */
const isPlain = (value) =>
  value !== null && value !== undefined && !['boolean', 'function', 'symbol'].includes(typeof value);

/** Bytes arrive from the other worker as a Uint8Array: the module gets a Buffer, as its own decrypt gave. */
const asInput = (value) =>
  value instanceof Uint8Array && !Buffer.isBuffer(value)
    ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    : value;

const bytesOf = (value) =>
  typeof value === 'string'
    ? Buffer.from(value, 'utf8')
    : value instanceof Uint8Array
      ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
      : undefined;

/** The same plaintext: the same bytes (a string as UTF-8, a Buffer or a Uint8Array), or deeply equal values. */
function samePlain(a, b) {
  const x = bytesOf(a);
  const y = bytesOf(b);
  return x && y ? x.equals(y) : isDeepStrictEqual(a, b);
}
const settle = (value) => (value && typeof value.then === 'function' ? value : undefined);

async function call(fn, value) {
  const result = fn(value);
  return settle(result) ? await result : result;
}

/** decrypt: each value's plaintext, or null when it does not decrypt (throws, or returns no plaintext). */
async function decryptAll(api, values) {
  const out = [];
  for (const value of values) {
    try {
      const plain = await call(api.decrypt, value);
      out.push(isPlain(plain) ? plain : null);
    } catch {
      out.push(null);
    }
  }
  return out;
}

/** seal: each plaintext encrypted, checked by decrypting it back here; null when that fails. */
async function sealAll(api, plains) {
  const out = [];
  for (const plain of plains) {
    try {
      const sealed = await call(api.encrypt, asInput(plain));
      const back = typeof sealed === 'string' ? await call(api.decrypt, sealed) : undefined;
      out.push(typeof sealed === 'string' && samePlain(back, plain) ? sealed : null);
    } catch {
      out.push(null);
    }
  }
  return out;
}

let api;
try {
  const mod = await import(pathToFileURL(modulePath).href);
  api = { encrypt: pick(mod, encryptName), decrypt: pick(mod, decryptName) };
  const missing = [...(api.encrypt ? [] : [encryptName]), ...(api.decrypt ? [] : [decryptName])];
  parentPort.postMessage(missing.length ? { type: 'ready', error: 'missing', missing } : { type: 'ready' });
} catch (error) {
  // the caller shows this text only when a second load with a decoy key gives the same one (load-error.ts)
  const name = error instanceof Error ? error.name : typeof error;
  const message = error instanceof Error ? error.message : String(error);
  parentPort.postMessage({ type: 'ready', error: 'load', name, message });
}

parentPort.on('message', async ({ id, op, values }) => {
  try {
    const results = op === 'decrypt' ? await decryptAll(api, values) : await sealAll(api, values);
    parentPort.postMessage({ type: 'done', id, results });
  } catch {
    parentPort.postMessage({ type: 'done', id, error: true });
  }
});
