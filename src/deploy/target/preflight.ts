import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { ExitCode, OpsError } from '../../errors.js';
import { opsctlRoot } from '../../remote/agent.js';
import { hostPaths } from '../../remote/host-files.js';
import { hostStep } from './host-step.js';
import type { FleetRun, HostFacts, HostRun } from './types.js';

const PREFLIGHT_TIMEOUT_MS = 30_000;
/** Room a deploy needs under the path: two releases of a typical app with node_modules, and the archives. */
const MIN_FREE_KB = 256 * 1024;

// constant: the path and the state file arrive as "$1" and "$2"
const FACTS =
  'p="$1"; while [ ! -d "$p" ]; do p=$(dirname "$p"); done; node -v || echo none; ' +
  'df -Pk "$p" | tail -n 1 | awk \'{print $4}\'; cat "$2" 2>/dev/null; echo; ls "$3" 2>/dev/null | tr "\\n" " "';

/**
 * Every host before anything changes anywhere: reachable over ssh with a verified host key, Node.js as opsctl needs
 * it, room under the path. All hosts are checked (concurrently); the first problem stops the deploy.
 */
export async function preflightHost(run: FleetRun, host: HostRun): Promise<HostFacts> {
  return hostStep(
    host,
    'preflight',
    async () => {
      const paths = hostPaths(run.target.path);
      const res = await host.ssh.run([['sh', '-c', FACTS, 'sh', run.target.path, paths.serving, paths.archives]], {
        timeoutMs: PREFLIGHT_TIMEOUT_MS,
        ...(run.build.signal ? { signal: run.build.signal } : {}),
      });
      const [node = '', free = '', serving = '', archives = ''] = res.stdout.split('\n').map((l) => l.trim());
      const facts: HostFacts = {
        node,
        freeKb: Number(free) || 0,
        ...(serving ? { serving } : {}),
        archives: archives
          .split(' ')
          .filter((a) => a.endsWith('.tgz'))
          .map((a) => a.slice(0, -4)),
      };
      verifyFacts(host.ssh.host.name, run.target.path, facts);
      host.facts = facts;
      host.report.previous = serving ? serving.slice(0, 16) : undefined;
      host.report.release = host.report.previous;
      return facts;
    },
    (f) => `node ${f.node}, ${Math.round(f.freeKb / 1024)} MB free`,
  );
}

function verifyFacts(name: string, path: string, facts: HostFacts): void {
  const wanted = nodeRange();
  if (!semver.valid(facts.node) || !semver.satisfies(facts.node, wanted)) {
    throw new OpsError(
      'HOST_NODE',
      `${name}: Node.js ${facts.node === 'none' ? 'is not installed' : facts.node} (opsctl needs ${wanted}).`,
      {
        hint: `Install Node.js ${wanted} on ${name}, on the PATH of a non-interactive ssh session.`,
        exitCode: ExitCode.failed,
      },
    );
  }
  if (facts.freeKb < MIN_FREE_KB) {
    throw new OpsError(
      'HOST_DISK',
      `${name}: ${Math.round(facts.freeKb / 1024)} MB free under ${path} (at least ${MIN_FREE_KB / 1024} MB needed).`,
      {
        hint: `Free space on ${name} (old releases live under ${path}/app/.opsctl/releases).`,
        exitCode: ExitCode.failed,
      },
    );
  }
}

function nodeRange(): string {
  const manifest = JSON.parse(readFileSync(join(opsctlRoot(), 'package.json'), 'utf8')) as {
    engines?: { node?: string };
  };
  return manifest.engines?.node ?? '>=20';
}
