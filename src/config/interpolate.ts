/** `${VAR}` and `${VAR:-default}` interpolation over every string of a parsed config document. */
const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

export interface InterpolationResult {
  value: unknown;
  /** Variables referenced inside a longer string that were not set (replaced by ""). */
  missing: string[];
  /** Each `${VAR}` without a default whose VAR was not set, with the path of the config value that reads it. */
  unset: UnsetRef[];
}

/** A config value (`redis.url`) that reads a variable (`REDIS_URL`) not set in the environment or `.env`. */
export interface UnsetRef {
  path: string[];
  name: string;
}

export function interpolate(doc: unknown, env: Record<string, string | undefined>): InterpolationResult {
  const missing: string[] = [];
  const unset: UnsetRef[] = [];
  const walk = (value: unknown, path: string[]): unknown => {
    if (typeof value === 'string') {
      const whole = WHOLE.exec(value);
      // a value that is only `${VAR}` with VAR unset counts as not given, so defaults apply
      if (whole) {
        const v = env[whole[1]!] || whole[2] || undefined;
        if (v === undefined) unset.push({ path, name: whole[1]! });
        return v;
      }
      return value.replace(PLACEHOLDER, (_m, name: string, fallback?: string) => {
        const v = env[name] || fallback;
        if (v === undefined) {
          missing.push(name);
          unset.push({ path, name });
        }
        return v ?? '';
      });
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, String(i)]));
    if (value && typeof value === 'object' && !(value instanceof Date)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const w = walk(v, [...path, k]);
        if (w !== undefined) out[k] = w;
      }
      return out;
    }
    return value;
  };
  return { value: walk(doc, []), missing, unset };
}

/**
 * The variables `${VAR}` refers to anywhere under a key named `key` (`alerts`, also inside `environments`): what
 * they hold is a credential there (README, "`opsctl watch`").
 */
export function variablesUnder(doc: unknown, key: string): string[] {
  const names: string[] = [];
  const walk = (value: unknown, inside: boolean): void => {
    if (typeof value === 'string') {
      if (inside) for (const m of value.matchAll(PLACEHOLDER)) names.push(m[1]!);
    } else if (Array.isArray(value)) {
      for (const v of value) walk(v, inside);
    } else if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, inside || k === key);
    }
  };
  walk(doc, false);
  return [...new Set(names)];
}

/** Objects merge key by key; arrays and scalars of the overlay replace the base. */
export function deepMerge<T>(base: T, overlay: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(overlay)) return (overlay === undefined ? base : overlay) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(overlay)) out[k] = deepMerge(out[k], v);
  return out as T;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}
