import { RULES } from './rules.js';
import type { LineHit } from './scripts.js';

/** One source file's text (what the secret scan reads). */
export interface SourceText {
  file: string;
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
 * Secret patterns of secretlint's recommended preset over every source file at once: the texts joined into one,
 * so the rule set runs once, not once per file (per file it costs more than parsing). Returns where, never the value.
 */
export async function scanTexts(texts: SourceText[]): Promise<Array<{ file: string; line: number; ruleId: string }>> {
  if (!texts.length) return [];
  const { lintSource, config } = await secretlint();
  const firstLines: number[] = [];
  let line = 1;
  for (const t of texts) {
    firstLines.push(line);
    line += t.text.split('\n').length;
  }
  const result = await lintSource({
    source: { filePath: 'sources.txt', content: texts.map((t) => t.text).join('\n'), contentType: 'text' },
    options: { config: config as never },
  });
  return result.messages.map((m) => {
    const at = m.loc.start.line;
    let lo = 0;
    let hi = firstLines.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (firstLines[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return { file: texts[lo]!.file, line: at - firstLines[lo]! + 1, ruleId: m.ruleId };
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
