import { errorMessage } from '../errors.js';
import { type InstallState, readInstallState } from '../packages/install-state.js';
import type { AppPackage } from '../packages/types.js';
import type { Check, CheckResult, CheckStatus } from './types.js';

/** One package's verdict. */
interface Finding {
  status: CheckStatus;
  text: string;
  hint?: string;
}

const SHOWN = 3; // examples per message; the details list the rest

/** `dependencies`: node_modules present and matching the lockfile, per package, from files only (no npm spawn). */
export const dependenciesCheck: Check = {
  id: 'dependencies',
  async run({ config }): Promise<CheckResult> {
    const findings = await Promise.all(config.packages.map((pkg) => judge(pkg, config.root)));
    const problems = findings.filter((f) => f.status !== 'pass');
    const worst: CheckStatus = problems.some((f) => f.status === 'fail') ? 'fail' : problems.length ? 'warn' : 'pass';
    if (worst === 'pass') {
      return { status: 'pass', message: findings.map((f) => f.text).join('; ') || 'no packages' };
    }
    return {
      status: worst,
      message: problems.map((f) => f.text).join('; '),
      hint: [...new Set(problems.flatMap((f) => (f.hint ? [f.hint] : [])))].join(' '),
      // with one package the message already says it all
      ...(findings.length > 1 ? { details: findings.map((f) => `${f.status}: ${f.text}`) } : {}),
    };
  },
};

async function judge(pkg: AppPackage, root: string): Promise<Finding> {
  const ci = `Run npm ci in ${pkg.path} (cd ${pkg.path} && npm ci).`;
  let state: InstallState;
  try {
    state = await readInstallState(pkg, root);
  } catch (err) {
    return {
      status: 'fail',
      text: `${pkg.name}: cannot read its lockfile: ${errorMessage(err)}`,
      hint: `Fix or regenerate the lockfile of ${pkg.path} (npm install).`,
    };
  }
  const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).length;
  const lockName = state.lockfile ?? 'package-lock.json';
  // a package without dependencies needs no node_modules, as long as its lockfile does not lock anything either
  if (!deps && !state.lockedMissing.length && !state.outOfSync.length) {
    return { status: 'pass', text: `${pkg.name}: no dependencies` };
  }
  if (!state.nodeModules)
    return {
      status: 'fail',
      text: `${pkg.name}: node_modules missing (run ${state.lockfile ? 'npm ci' : 'npm install'})`,
      hint: state.lockfile ? ci : `Run npm install in ${pkg.path}.`,
    };
  if (state.notInstalled.length) {
    return {
      status: 'fail',
      text: `${pkg.name}: ${count(state.notInstalled.length, 'dependency', 'dependencies')} not installed (${list(state.notInstalled)})`,
      hint: state.lockfile ? ci : `Run npm install in ${pkg.path}.`,
    };
  }
  if (!state.lockfile) {
    const other = state.otherLockfile ? ` (has ${state.otherLockfile}, which npm ignores)` : '';
    return {
      status: 'warn',
      text: `${pkg.name}: no package-lock.json${other}; installs are not reproducible`,
      hint: `Run npm install in ${pkg.path} and commit package-lock.json.`,
    };
  }
  if (state.outOfSync.length) {
    const first = state.outOfSync[0]!;
    const example =
      first.range === undefined
        ? `${first.name} only in the lockfile`
        : `${first.name} ${first.range} in package.json, ${first.locked ?? 'absent'} in ${lockName}`;
    return {
      status: 'fail',
      text: `${pkg.name}: package.json and ${lockName} are out of sync: ${count(state.outOfSync.length, 'dependency', 'dependencies')} (${example}); npm ci will refuse`,
      hint: `Run npm install in ${pkg.path} to update ${lockName}, commit it, then deploy.`,
    };
  }
  if (state.drift.length) {
    const d = state.drift[0]!;
    return {
      status: 'fail',
      text: `${pkg.name}: ${count(state.drift.length, 'package differs', 'packages differ')} from ${lockName} (${d.name} ${d.installed} installed, lockfile ${d.locked})`,
      hint: ci,
    };
  }
  if (state.lockedMissing.length) {
    const m = state.lockedMissing[0]!;
    return {
      status: 'fail',
      text: `${pkg.name}: ${count(state.lockedMissing.length, 'package', 'packages')} in ${lockName} not installed (e.g. ${m.name} ${m.version})`,
      hint: ci,
    };
  }
  const omitted = state.devOmitted ? ', dev dependencies omitted' : '';
  return { status: 'pass', text: `${pkg.name}: ${state.checked} installed packages match ${lockName}${omitted}` };
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function list(names: string[]): string {
  return names.length > SHOWN ? `${names.slice(0, SHOWN).join(', ')}, …` : names.join(', ');
}
