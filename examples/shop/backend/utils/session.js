// ON PURPOSE, so `opsctl audit` has a code finding to show (examples/shop/README.md, "On purpose: what the audit
// finds"): a secret-named variable falling back to a literal (rule secrets/env-fallback). Nothing in the API uses
// it yet; orders are encrypted by utils/encryption.js, whose key never falls back to a literal.
// The fix the audit suggests: fail at start-up when SESSION_SECRET is missing.
export const SESSION_SECRET = process.env.SESSION_SECRET || 'dev-session-secret';
