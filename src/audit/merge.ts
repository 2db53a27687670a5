import { type Finding, severityRank } from './types.js';

/**
 * One finding per advisory per package and dependency: a Snyk finding sharing a GHSA or CVE id with an npm finding
 * for the same dependency joins it (both sources listed, the higher severity kept); code findings pass through.
 */
export function mergeFindings(lists: Finding[][]): Finding[] {
  const merged: Finding[] = [];
  for (const f of lists.flat()) {
    const twin = f.source === 'code' ? undefined : merged.find((m) => sameAdvisory(m, f));
    if (!twin) {
      merged.push({ ...f, sources: [...f.sources], aliases: [...f.aliases] });
      continue;
    }
    twin.sources = [...new Set([...twin.sources, ...f.sources])];
    twin.aliases = [...new Set([...twin.aliases, ...f.aliases])];
    if (severityRank(f.severity) > severityRank(twin.severity)) twin.severity = f.severity;
    twin.fixedIn ??= f.fixedIn;
    twin.version ??= f.version;
    twin.path ??= f.path;
  }
  return merged;
}

function sameAdvisory(a: Finding, b: Finding): boolean {
  if (a.source === 'code' || a.package !== b.package || a.dependency !== b.dependency) return false;
  // the same source never lists one advisory twice for a dependency: two of its entries are two advisories
  if (a.sources.includes(b.source)) return false;
  const ids = new Set(a.aliases.filter(isSharedId));
  return b.aliases.some((id) => ids.has(id));
}

/** Identifiers that name the same advisory across databases. */
function isSharedId(id: string): boolean {
  return /^(GHSA|CVE)-/.test(id);
}
