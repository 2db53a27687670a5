import { loadConfig } from '../../src/config/load.js';
import { buildProgram } from '../index.js';
import { type AppNames, complete } from './complete.js';
import { formatCandidate, SHELLS, type Shell } from './scripts.js';

/**
 * `opsctl __complete <shell> -- <words...>`, what the completion scripts call at each Tab: the candidates, one a
 * line. Never fails loudly: a completion that cannot read the app offers what the command table has.
 */
export function answerCompletion(argv: string[]): void {
  const shell = (SHELLS as readonly string[]).includes(argv[0] ?? '') ? (argv[0] as Shell) : 'bash';
  const words = argv.includes('--') ? argv.slice(argv.indexOf('--') + 1) : argv.slice(1);
  if (!words.length) words.push('');
  for (const c of complete(buildProgram(), words, appNames(words))) {
    process.stdout.write(`${formatCandidate(shell, c.value, c.description)}\n`);
  }
}

/** Packages and pipelines of the app the words point at (`-C`, `--config`), read once, only when asked. */
function appNames(words: string[]): AppNames {
  const flagValue = (...flags: string[]) => {
    const i = words.findIndex((w) => flags.includes(w));
    return i >= 0 ? words[i + 1] : undefined;
  };
  let config: ReturnType<typeof loadConfig> | null | undefined;
  const read = () => {
    if (config === undefined) {
      try {
        config = loadConfig({ cwd: flagValue('-C', '--cwd'), config: flagValue('-c', '--config') });
      } catch {
        config = null;
      }
    }
    return config;
  };
  return {
    packages: () => read()?.packages.map((p) => p.name) ?? [],
    pipelines: () => Object.keys(read()?.pipelines ?? {}),
  };
}
