import { posix } from 'node:path';
import { isPlaceholder, isSecretEnvName, RULES } from './rules.js';
import type { LineHit } from './scripts.js';

/** `.env`, `.env.production`, `backend/.env.local`; not `.env.example`, `.env.sample`, `.env.template` and kin. */
export function isEnvFile(file: string): boolean {
  const base = posix.basename(file);
  if (!/^\.env(\..+)?$/.test(base)) return false;
  return !/\.(example|sample|template|dist|defaults|tpl|schema)$|\.(example|sample|template)\./i.test(base);
}

/** Key files by name: PEM/keys and SSH identities. Their content decides (a public certificate is no finding). */
export function isKeyFile(file: string): boolean {
  const base = posix.basename(file);
  return /\.(pem|key|p8)$/i.test(base) || /^id_(rsa|dsa|ecdsa|ed25519)$/.test(base);
}

/** Lines of a .env file whose key is secret-named and whose value is not a placeholder; TLS turned off too. */
export function checkEnvFile(text: string): LineHit[] {
  const hits: LineHit[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) return;
    const key = m[1]!;
    const value = unquote(m[2]!.replace(/\s+#.*$/, ''));
    if (key === 'NODE_TLS_REJECT_UNAUTHORIZED' && value === '0') hits.push({ rule: RULES.tlsOff, line: i + 1 });
    else if (isSecretEnvName(key) && !isPlaceholder(value)) hits.push({ rule: RULES.committedEnv, line: i + 1 });
  });
  return hits;
}

function unquote(v: string): string {
  const t = v.trim();
  return /^(['"`]).*\1$/.test(t) ? t.slice(1, -1) : t;
}
