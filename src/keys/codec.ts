import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { configError, ExitCode, OpsError } from '../errors.js';
import { addSecret, MASK } from '../output/redact.js';
import { describeLoadFailure } from './load-error.js';

/** A plaintext as the app's module returns it: a string, bytes, or a JSON-like value (an object, an array, a number). */
export type Plain = string | Uint8Array | number | object;

/** The app's encryption module with one key: where it is, its two exports, and the variable it reads the key from. */
export interface CodecSpec {
  /** Absolute path, or relative to `root`. */
  module: string;
  root: string;
  encrypt: string;
  decrypt: string;
  keyEnv: string;
  /** The key, as the variable would hold it: it reaches the module only through the worker's environment. */
  key: string;
  /** How errors name this side: "current key", "new key". */
  label: string;
}

/** One loaded copy of the module. Batches go in as one message each; results come back in order. */
export interface Codec {
  /** Each value's plaintext, or null when it does not decrypt with this module and key. */
  decrypt(values: string[]): Promise<(Plain | null)[]>;
  /** Each plaintext encrypted and decrypted back (checked in the worker); null when that failed. */
  seal(plains: Plain[]): Promise<(string | null)[]>;
  close(): Promise<void>;
}

const WORKER = fileURLToPath(new URL('./codec-worker.mjs', import.meta.url));
const LOAD_TIMEOUT_MS = 30_000;
const BATCH_TIMEOUT_MS = 120_000;

/** The key and the forms it could be printed in, for redaction; never stored. */
export function keyForms(key: string): string[] {
  const forms = new Set([key, key.trim()]);
  const trimmed = key.trim();
  if (/^[0-9a-f]+$/i.test(trimmed) && trimmed.length % 2 === 0) {
    const bytes = Buffer.from(trimmed, 'hex');
    forms.add(bytes.toString('base64')).add(bytes.toString('base64url')).add(trimmed.toUpperCase());
    forms.add(trimmed.toLowerCase());
  } else {
    const bytes = Buffer.from(trimmed, 'base64');
    if (bytes.length) forms.add(bytes.toString('hex')).add(bytes.toString('base64url'));
  }
  return [...forms].filter((f) => f.length >= 8);
}

function mask(text: string, key: string): string {
  let masked = text;
  for (const form of keyForms(key)) masked = masked.split(form).join(MASK);
  return masked;
}

/** The module's absolute path, or a config error (exit 2) when it does not exist. */
export function resolveModulePath(module: string, root: string): string {
  const path = isAbsolute(module) ? module : resolve(root, module);
  if (!existsSync(path)) {
    throw configError(
      `The encryption module ${module} does not exist.`,
      'Fix encryption.module (relative to the app root).',
    );
  }
  return path;
}

/**
 * Load the app's module in a worker thread whose environment holds only `keyEnv` = the key, so a module that reads
 * its key at load time (or per call, from process.env) sees this key and no other, and its module cache is its own.
 */
export async function openCodec(spec: CodecSpec): Promise<Codec> {
  for (const form of keyForms(spec.key)) addSecret(form);
  const modulePath = resolveModulePath(spec.module, spec.root);
  const workerData = { modulePath, encryptName: spec.encrypt, decryptName: spec.decrypt };
  const worker = new Worker(WORKER, {
    env: { [spec.keyEnv]: spec.key },
    workerData,
    stdout: true, // the module's own console output is not relayed: it could print the key
    stderr: true,
  });
  worker.stdout.resume();
  worker.stderr.resume();
  const pending = new Map<number, { resolve: (r: unknown[]) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let gone: Error | undefined;
  const fail = (error: Error) => {
    gone = error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  const ready = new Promise<void>((resolveReady, rejectReady) => {
    const timer = setTimeout(
      () => rejectReady(new OpsError('KEYS_MODULE', `${spec.module} (${spec.label}) did not load within 30 s.`)),
      LOAD_TIMEOUT_MS,
    );
    worker.on(
      'message',
      (msg: {
        type: string;
        id?: number;
        results?: unknown[];
        error?: unknown;
        missing?: string[];
        name?: string;
        message?: string;
      }) => {
        if (msg.type === 'ready') {
          clearTimeout(timer);
          if (!msg.error) return resolveReady();
          const failure = { name: String(msg.name), message: String(msg.message) };
          const what =
            msg.error === 'missing'
              ? Promise.resolve(`does not export ${msg.missing?.join(' and ')}`)
              : describeLoadFailure(WORKER, workerData, spec.keyEnv, spec.key, failure).then(
                  (text) => `could not be loaded with the ${spec.label} in ${spec.keyEnv}: ${mask(text, spec.key)}`,
                );
          void what.then((text) =>
            rejectReady(
              new OpsError('KEYS_MODULE', `${spec.module} ${text}.`, {
                hint: 'Check encryption.module, encryption.encrypt / decrypt and encryption.keyEnv.',
                exitCode: msg.error === 'missing' ? ExitCode.usage : ExitCode.failed,
              }),
            ),
          );
          return;
        }
        const waiter = pending.get(msg.id ?? -1);
        if (!waiter) return;
        pending.delete(msg.id ?? -1);
        if (msg.error) waiter.reject(new OpsError('KEYS_WORKER', `${spec.module} (${spec.label}) failed on a batch.`));
        else waiter.resolve(msg.results ?? []);
      },
    );
    worker.on('error', (error) => {
      clearTimeout(timer);
      // an uncaught error's text may hold the key in any form: only its name (README, "`opsctl keys`")
      const e = new OpsError(
        'KEYS_WORKER',
        `${spec.module} (${spec.label}) crashed: ${error.name} (not shown: its message could hold the key).`,
      );
      rejectReady(e);
      fail(e);
    });
    worker.on('exit', (code) => {
      clearTimeout(timer);
      const e = new OpsError('KEYS_WORKER', `${spec.module} (${spec.label}) exited (code ${code}).`);
      rejectReady(e);
      fail(e);
    });
  });
  const send = (op: 'decrypt' | 'seal', values: unknown[]) =>
    new Promise<unknown[]>((resolveSend, rejectSend) => {
      if (gone) return rejectSend(gone);
      const id = nextId++;
      // a module whose promise never settles must not hang the run: the batch fails, the worker is stopped
      const timer = setTimeout(() => {
        fail(
          new OpsError(
            'KEYS_WORKER',
            `${spec.module} (${spec.label}) did not answer a batch within ${BATCH_TIMEOUT_MS / 1000} s.`,
          ),
        );
        void worker.terminate();
      }, BATCH_TIMEOUT_MS);
      const settle = () => clearTimeout(timer);
      pending.set(id, {
        resolve: (r) => {
          settle();
          resolveSend(r);
        },
        reject: (e) => {
          settle();
          rejectSend(e);
        },
      });
      worker.postMessage({ id, op, values });
    });
  try {
    await ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return {
    decrypt: async (values) => (values.length ? ((await send('decrypt', values)) as (Plain | null)[]) : []),
    seal: async (plains) => (plains.length ? ((await send('seal', plains)) as (string | null)[]) : []),
    async close() {
      worker.removeAllListeners('exit');
      // a batch still waiting fails now (and its timer goes): nothing may wait on a stopped worker
      if (!gone) fail(new OpsError('KEYS_WORKER', `${spec.module} (${spec.label}) was stopped.`));
      await worker.terminate();
    },
  };
}
