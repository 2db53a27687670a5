// Hand-written GET on node:http(s) rather than npm-registry-fetch (start-up time); honours npm's TLS settings.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { ExitCode, OpsError } from '../errors.js';
import { type NpmValue, npmSetting } from './npm-config.js';

export interface TlsSettings {
  /** PEM text replacing the default CAs (npm's `ca` / `cafile`). */
  ca?: string | string[];
  cert?: string;
  key?: string;
  /** npm's `strict-ssl`. */
  rejectUnauthorized?: boolean;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  body: Buffer;
}

const DECODERS: Record<string, (b: Buffer) => Promise<Buffer>> = {
  gzip: promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
};

/** One pool of keep-alive connections per registry configuration; `destroy()` it when done. */
export function createAgents(tls: TlsSettings, maxSockets: number) {
  const options = { keepAlive: true, maxSockets, ...tls };
  return { http: new http.Agent({ keepAlive: true, maxSockets }), https: new https.Agent(options) };
}

export type Agents = ReturnType<typeof createAgents>;

/**
 * GET a URL through node:http(s) (unlike fetch, it honours npm's `cafile`, `cert`, `key` and `strict-ssl`).
 * `timeoutMs` bounds the whole exchange, body included; a timeout rejects with `code: 'ETIMEDOUT'`.
 */
export function httpGet(url: string, headers: Record<string, string>, agents: Agents, timeoutMs: number) {
  return new Promise<HttpResponse>((resolve, reject) => {
    const target = new URL(url);
    const lib = target.protocol === 'http:' ? http : https;
    const req = lib.get(target, {
      headers: { 'accept-encoding': 'gzip, deflate, br', ...headers },
      agent: target.protocol === 'http:' ? agents.http : agents.https,
    });
    const timer = setTimeout(() => {
      req.destroy(Object.assign(new Error(`timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        const raw = Buffer.concat(chunks);
        const decode = DECODERS[String(res.headers['content-encoding'] ?? '').toLowerCase()];
        (decode ? decode(raw) : Promise.resolve(raw)).then(
          (body) => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', body }),
          reject,
        );
      });
    });
  });
}

/** npm's TLS settings: `ca` (inline, one value or a `ca[]` list) or `cafile`, `cert`, `key`, `strict-ssl`. */
export function tlsFromNpmConfig(values: Record<string, NpmValue>): TlsSettings {
  const tls: TlsSettings = {};
  const set = (key: string) => {
    const v = npmSetting(values, key);
    return v && v !== 'null' ? v : undefined;
  };
  const cafile = set('cafile');
  if (cafile) tls.ca = splitPem(readCaFile(cafile));
  const ca = [values.ca ?? []].flat().filter((v) => v && v !== 'null');
  if (ca.length) tls.ca = Array.isArray(values.ca) ? ca.map(unescapeNewlines) : unescapeNewlines(ca[0]!);
  const cert = set('cert');
  if (cert) tls.cert = unescapeNewlines(cert);
  const key = set('key');
  if (key) tls.key = unescapeNewlines(key);
  if (set('strict-ssl') === 'false') tls.rejectUnauthorized = false;
  return tls;
}

/** npmrc values spell PEM line breaks as `\n`. */
function unescapeNewlines(pem: string): string {
  return pem.replace(/\\n/g, '\n');
}

function readCaFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new OpsError('NPM_CONFIG', `npm's cafile ${file} cannot be read: ${(err as Error).message}`, {
      hint: 'Fix or remove the cafile setting in .npmrc.',
      exitCode: ExitCode.usage,
      cause: err,
    });
  }
}

function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [text];
}
