import { type CodeRule, RULES } from './rules.js';

export interface LineHit {
  rule: CodeRule;
  line: number;
}

// npm scripts are shell command lines, not JavaScript: a pattern over each line of package.json is the parser here
const INSPECT_PUBLIC = /--inspect(?:-brk|-wait)?[= ](?:0\.0\.0\.0|\[?::\]?)(?::\d+)?\b/;
const TLS_OFF = /\bNODE_TLS_REJECT_UNAUTHORIZED=["']?0\b/;

/** Findings in the `scripts` of a package.json: the inspector on every interface, TLS verification off. */
export function checkScripts(text: string): LineHit[] {
  let scripts: Record<string, unknown>;
  try {
    scripts = (JSON.parse(text) as { scripts?: Record<string, unknown> }).scripts ?? {};
  } catch {
    return [];
  }
  const lines = text.split('\n');
  const hits: LineHit[] = [];
  for (const [name, command] of Object.entries(scripts)) {
    if (typeof command !== 'string') continue;
    const rule = INSPECT_PUBLIC.test(command)
      ? RULES.inspectorPublic
      : TLS_OFF.test(command)
        ? RULES.tlsOff
        : undefined;
    if (!rule) continue;
    const index = lines.findIndex((l) => l.includes(JSON.stringify(name)) && l.includes(':'));
    hits.push({ rule, line: index + 1 || 1 });
  }
  return hits;
}
