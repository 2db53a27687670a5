// Hand-written: WHATWG URL (`new URL`) misreads the URLs people really write (an unencoded `/`, `@`, `#` or `?` in
// the password, no scheme) without an error, and re-serialises what it parses; the URL must print as written.
/**
 * Finding the secrets of a URL: the password of its userinfo and the values of its secret-named query parameters
 * (`?password=`, `&token=`...), for URLs with or without a scheme (`user:pw@host:5432/db`).
 */

/** The parts of a URL around its secrets; `password` and each query value are the only secret text. */
interface UrlParts {
  /** `postgres://app:` or `app:` (ends before the password), or the text before the host when no password. */
  head: string;
  password?: string;
  /** `@host:port/path?query#fragment` (or the whole rest when there is no userinfo). */
  tail: string;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const SCHEME_INSIDE = /[a-z][a-z0-9+.-]*:\/\//i;
// user:password@host without a scheme; the user has no `/`, `:` or `@`, and nothing has white space
const SCHEMELESS = /^[\w.~%+-]+:\S*@/;
// host[:port][/path]?query without a scheme or userinfo (`127.0.0.1:5432/shop?password=...`): its query can hold secrets
const SCHEMELESS_QUERY = /^(?:\[[0-9a-f:.]+\]|[\w.~%-]+)(?::\d+)?(?:\/[^\s?#@]*)?\?\S*$/i;
// a host (name, IPv4 or [IPv6]) and optional port right after the `@` that ends the userinfo
const HOST_AFTER_AT = /^@(?:\[[0-9a-f:.]+\]|[\w.~%-]+)(?::\d*)?(?=$|[/?#,;"')\]}>\s])/i;
const HOST_PORT = /^(?:\[[0-9a-f:.]+\]|[\w.~%-]+)(?::\d+)?$/i;
const SECRET_PARAM = /pass|pwd|token|secret|(?:^|[_-])key$|apikey|credential/i;

/**
 * Is the text as a whole one URL (with a scheme, or `user:pw@host` without one)? Only its password may hold white
 * space: `https://x.example failed: see user@host` is a sentence, not a URL.
 */
export function isUrlLike(text: string): boolean {
  if (!SCHEME.test(text) && !SCHEMELESS.test(text) && !SCHEMELESS_QUERY.test(text)) return false;
  const parts = splitUrl(text);
  return parts !== undefined && !/\s/.test(parts.head) && !/\s/.test(parts.tail);
}

/**
 * Split a URL at its password. The userinfo ends at the last `@` that a host follows (a password may hold `@`,
 * `/`, `#`, `?`), unless the text up to the first `/`, `?` or `#` is already a plain `host:port`, as in
 * `https://registry.example:443/@scope/pkg`.
 */
function splitUrl(url: string): UrlParts | undefined {
  const scheme = SCHEME.exec(url)?.[0] ?? '';
  const rest = url.slice(scheme.length);
  const at = userinfoEnd(rest);
  if (at < 0) {
    const plain = scheme || SCHEMELESS.test(url) || SCHEMELESS_QUERY.test(url);
    return plain ? { head: url.slice(0, scheme.length), tail: rest } : undefined;
  }
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(':');
  if (!scheme && (colon <= 0 || /[/@]/.test(userinfo.slice(0, colon)))) return undefined;
  if (colon < 0) return { head: scheme + userinfo, tail: rest.slice(at) };
  return { head: scheme + userinfo.slice(0, colon + 1), password: userinfo.slice(colon + 1), tail: rest.slice(at) };
}

/** The index of the `@` that ends the userinfo in `rest` (the URL after its scheme), or -1. */
function userinfoEnd(rest: string): number {
  const delimiter = rest.search(/[/?#]/);
  const authority = delimiter < 0 ? rest : rest.slice(0, delimiter);
  if (!authority.includes('@') && HOST_PORT.test(authority)) return -1;
  for (let at = rest.lastIndexOf('@'); at > 0; at = rest.lastIndexOf('@', at - 1)) {
    if (HOST_AFTER_AT.test(rest.slice(at))) return at;
  }
  return -1;
}

/** The password and secret query values of a URL (empty when it has none, or is no URL). */
export function readUrlSecrets(url: string): string[] {
  const parts = splitUrl(url);
  if (!parts) return [];
  const secrets: string[] = [];
  if (parts.password) {
    secrets.push(parts.password);
    // an HTTP client sends user and password as a Basic credential: base64 of `user:password`, as written and decoded
    const user = parts.head.replace(SCHEME, '').slice(0, -1);
    for (const pair of new Set([`${user}:${parts.password}`, `${decoded(user)}:${decoded(parts.password)}`])) {
      secrets.push(Buffer.from(pair).toString('base64'));
    }
  }
  maskQuery(parts.tail, (value) => {
    secrets.push(value);
    return value;
  });
  return secrets;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The URL with its password and secret query values replaced by `mask`; anything else unchanged. */
export function maskUrl(url: string, mask: string): string {
  const parts = splitUrl(url);
  if (!parts) return url;
  const password = parts.password === undefined ? '' : parts.password ? mask : '';
  return parts.head + password + maskQuery(parts.tail, () => mask);
}

/** Every URL inside free text (a URL ends at white space or a quote) masked by `maskUrl`. */
export function maskUrlsInText(text: string, mask: string): string {
  return text.replace(/[^\s"'`<>]+/g, (token) => {
    const start = token.search(SCHEME_INSIDE);
    if (start >= 0) return token.slice(0, start) + maskUrl(token.slice(start), mask);
    return SCHEMELESS.test(token) ? maskUrl(token, mask) : token;
  });
}

function maskQuery(tail: string, replace: (value: string) => string): string {
  const query = tail.indexOf('?');
  if (query < 0) return tail;
  return (
    tail.slice(0, query) +
    tail
      .slice(query)
      .replace(/([?&;])([^&;=#]+)=([^&;#]*)/g, (whole, sep: string, name: string, value: string) =>
        SECRET_PARAM.test(name) && value ? `${sep}${name}=${replace(value)}` : whole,
      )
  );
}
