import { RULES } from './rules.js';
import type { LineHit } from './scripts.js';

/** One string literal of a source file (what the secret scan reads). */
export interface Literal {
  file: string;
  line: number;
  text: string;
}

type Lint = typeof import('@secretlint/core').lintSource;
let loaded: Promise<{ lintSource: Lint; config: unknown }> | undefined;

/** secretlint's recommended preset, loaded on first use (only `audit` needs it). */
function secretlint() {
  loaded ??= Promise.all([import('@secretlint/core'), import('@secretlint/secretlint-rule-preset-recommend')]).then(
    ([core, preset]) => ({
      lintSource: core.lintSource,
      config: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: preset.creator }] },
    }),
  );
  return loaded;
}

/**
 * Secret patterns of secretlint's recommended preset over every string literal of the sources at once: one
 * literal per line of one text, so the rule set runs once, not once per file. Returns where, never the value.
 */
export async function scanLiterals(
  literals: Literal[],
): Promise<Array<{ file: string; line: number; ruleId: string }>> {
  const wanted = literals.filter((l) => l.text.length >= 16 && !l.text.includes('\n'));
  if (!wanted.length) return [];
  const { lintSource, config } = await secretlint();
  const result = await lintSource({
    source: { filePath: 'literals.txt', content: wanted.map((l) => l.text).join('\n'), contentType: 'text' },
    options: { config: config as never },
  });
  return result.messages.map((m) => {
    const at = wanted[m.loc.start.line - 1]!;
    return { file: at.file, line: at.line, ruleId: m.ruleId };
  });
}

/** secretlint over one whole file (key files): a private key found is the private-key rule. */
export async function scanFile(file: string, content: string): Promise<LineHit[]> {
  const { lintSource, config } = await secretlint();
  const result = await lintSource({
    source: { filePath: file, content, contentType: 'text' },
    options: { config: config as never },
  });
  return result.messages.map((m) => ({
    rule: /privatekey/i.test(m.ruleId) ? RULES.privateKey : RULES.hardcodedKey,
    line: m.loc.start.line,
  }));
}
