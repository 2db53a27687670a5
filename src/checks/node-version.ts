import type { Check, CheckResult } from './types.js';

/** Does the running Node.js satisfy each package's `engines.node`? */
export const nodeVersionCheck: Check = {
  id: 'node-version',
  async run({ config }) {
    return checkEngines(
      process.versions.node,
      config.packages.map((p) => ({ name: p.name, range: p.engines?.node })),
    );
  },
};

export function checkEngines(version: string, packages: Array<{ name: string; range?: string }>): CheckResult {
  const failing = packages.filter((p) => p.range && !satisfies(version, p.range));
  const declared = packages.filter((p) => p.range);
  if (failing.length) {
    return {
      status: 'fail',
      message: `Node.js ${version} does not satisfy ${failing.map((p) => `${p.name} (engines.node ${p.range})`).join(', ')}`,
      hint: 'Switch Node.js versions (nvm use, volta, fnm) to one the packages declare, or update engines.node.',
    };
  }
  if (!declared.length) return { status: 'pass', message: `Node.js ${version} (no package declares engines.node)` };
  return {
    status: 'pass',
    message: `Node.js ${version} satisfies engines.node of ${declared.map((p) => p.name).join(', ')}`,
  };
}

/**
 * A small semver range check covering what engines fields use: `>=a.b`, `^a`, `~a.b`, `a.x`, `a - b`,
 * space-joined comparators and `||`. Unparseable ranges count as satisfied (we do not guess).
 */
export function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  if (!v) return true;
  return range.split('||').some((alt) => {
    const trimmed = alt.trim();
    if (!trimmed || trimmed === '*' || trimmed === 'x') return true;
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(trimmed);
    if (hyphen) return compareOp(v, '>=', hyphen[1]!) && belowUpper(v, hyphen[2]!);
    return trimmed.split(/\s+/).every((part) => comparator(v, part));
  });
}

type Version = [number, number, number];

function parse(text: string): Version | undefined {
  const m = /^v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?/.exec(text.trim());
  if (!m) return undefined;
  const n = (s: string | undefined) => (s === undefined || s === 'x' || s === '*' ? 0 : Number(s));
  return [n(m[1]), n(m[2]), n(m[3])];
}

function cmp(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i]! !== b[i]!) return a[i]! - b[i]!;
  return 0;
}

function compareOp(v: Version, op: string, text: string): boolean {
  const b = parse(text);
  if (!b) return true;
  const c = cmp(v, b);
  return { '>=': c >= 0, '>': c > 0, '<=': c <= 0, '<': c < 0, '=': c === 0 }[op] ?? true;
}

/** The upper end of `a - b`: a partial version excludes the next one (`18 - 20` admits 20.x). */
function belowUpper(v: Version, text: string): boolean {
  const b = parse(text);
  if (!b) return true;
  const given = text.split('.').filter((s) => /^\d+$/.test(s)).length;
  if (given >= 3) return cmp(v, b) <= 0;
  return cmp(v, given <= 1 ? [b[0] + 1, 0, 0] : [b[0], b[1] + 1, 0]) < 0;
}

function comparator(v: Version, part: string): boolean {
  const m = /^(>=|<=|>|<|=|\^|~)?\s*v?(.*)$/.exec(part);
  if (!m) return true;
  const [, op = '', rest = ''] = m;
  const b = parse(rest);
  if (!b) return true;
  const given = rest.split('.').filter((s) => /^\d+$/.test(s)).length;
  if (op === '^') {
    const upper: Version = b[0] > 0 ? [b[0] + 1, 0, 0] : b[1] > 0 ? [0, b[1] + 1, 0] : [0, 0, b[2] + 1];
    return cmp(v, b) >= 0 && cmp(v, upper) < 0;
  }
  if (op === '~' || (op === '' && given < 3)) {
    const upper: Version = given <= 1 ? [b[0] + 1, 0, 0] : [b[0], b[1] + 1, 0];
    return cmp(v, b) >= 0 && cmp(v, upper) < 0;
  }
  return compareOp(v, op || '=', rest);
}
