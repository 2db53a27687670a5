import { join } from 'node:path';
import { liveLockHolder } from '../app/app-lock.js';
import { describeExit, type Pm2Exit, readLastExits } from '../logs/pm2-stamp.js';
import { readTail } from '../logs/read-tail.js';
import type { AppPackage } from '../packages/types.js';
import { createPm2 } from '../pm2/cli.js';
import { daemonPid, pm2Home } from '../pm2/home.js';
import { candidatesOf, orphanNames, orphansOf } from '../pm2/orphans.js';
import { ownProcessPredicate } from '../pm2/own-process.js';
import type { Pm2Instance } from '../pm2/processes.js';
import { lostDaemon } from './lost-daemon.js';
import { portCheck } from './port.js';
import type { Check, CheckResult, CheckStatus } from './types.js';

/** A start on purpose may take the old process' whole kill_timeout to stop, plus this, before the new one starts. */
const RESTART_GRACE_MS = 1_000;
const PM2_DEFAULT_KILL_TIMEOUT_MS = 1_600;
/** A crash this recent fails the check; an older one (the process has been up since) only warns. */
const RECENT_CRASH_MS = 60 * 60_000;
/** How much of the end of PM2's own log is read for how each instance last exited. */
const PM2_LOG_TAIL_BYTES = 256 * 1024;

/** What one instance's PM2 state says, as one line for people. */
interface Verdict {
  status: CheckStatus;
  /** `crashed`, `errored`, `stopped on purpose`…, for the summary; undefined when all is well. */
  problem?: string;
  line: string;
}

/**
 * `processes`: crashes told from deploys and deliberate stops, one line per instance (README, "doctor"). PM2 counts
 * every reload and restart in `restart_time`, so that count says nothing; its `created_at` does: start, restart and
 * reload set it, a restart after the process exited on its own keeps it. A process started well after it was last
 * started on purpose was restarted by PM2 after a crash.
 */
export const processesCheck: Check = {
  id: 'processes',
  async run({ config, runner, now, memo, recentCrashMs = RECENT_CRASH_MS }): Promise<CheckResult> {
    const home = pm2Home(config.root, config.env);
    const daemon = daemonPid(home);
    if (daemon === undefined) {
      const lost = lostDaemon(memo, daemon, undefined);
      if (lost) return lost;
      return {
        status: 'skip',
        message: 'PM2 is not running for this app (nothing deployed)',
        hint: '`opsctl deploy` starts it.',
      };
    }
    const all = await createPm2(runner, home, config.root).jlist();
    const instances = all.filter((p) => config.packages.some((pkg) => pkg.name === p.name));
    const orphans = orphanNames(orphansOf(all, config));
    // a candidate is part of the deploy running now; with no deploy running, one was left by a killed deploy
    const leftover = liveLockHolder(config.root) ? [] : orphanNames(candidatesOf(all, config));
    const strays = [
      orphans.length
        ? `${orphans.join(', ')} ${orphans.length > 1 ? 'run' : 'runs'} under the app's PM2 but ${orphans.length > 1 ? 'are' : 'is'} not in the config`
        : '',
      leftover.length
        ? `${leftover.join(', ')} ${leftover.length > 1 ? 'were' : 'was'} left by a deploy that did not finish`
        : '',
    ].filter(Boolean);
    const orphanLine = strays.length ? strays.join('; ') : undefined;
    const orphanHint = '`opsctl stop --orphans` stops and deletes them.';
    // read again: a daemon that died meanwhile was replaced by an empty one (`pm2 jlist` starts one)
    const lost = lostDaemon(memo, daemonPid(home), instances);
    if (lost) return lost;
    if (!instances.length) {
      return orphanLine
        ? { status: 'warn', message: orphanLine, hint: orphanHint }
        : { status: 'pass', message: 'no package is running under PM2' };
    }
    const at = now().getTime();
    const exits = await readTail(join(home, 'pm2.log'), PM2_LOG_TAIL_BYTES).then(
      (tail) => readLastExits(tail.text),
      () => new Map<string, Pm2Exit>(), // no daemon log yet: PM2's exit code alone
    );
    const verdicts = instances.map((p) => ({ p, ...judge(p, at, exits.get(`${p.name}:${p.pmId}`), recentCrashMs) }));
    const details = [...verdicts.map((v) => v.line), ...(orphanLine ? [orphanLine] : [])];
    for (const status of ['fail', 'warn'] as const) {
      const bad = verdicts.filter((v) => v.status === status);
      if (!bad.length) continue;
      const byProblem = new Map<string, string[]>();
      for (const v of bad) byProblem.set(v.problem!, [...(byProblem.get(v.problem!) ?? []), instanceName(v.p)]);
      const message = [...byProblem].map(([problem, names]) => `${names.join(', ')} ${problem}`).join('; ');
      const first = bad[0]!.p.name;
      const stoppedOnly = bad.every((v) => v.problem === STOPPED);
      return {
        status,
        message,
        hint: stoppedOnly
          ? `\`opsctl start ${first}\` starts it again.`
          : `Read why with \`opsctl logs ${first}\`; fix and \`opsctl deploy\`, or \`opsctl restart ${first}\`.`,
        details,
      };
    }
    if (orphanLine) return { status: 'warn', message: orphanLine, hint: orphanHint, details };
    const n = instances.length;
    return {
      status: 'pass',
      message: `${n} instance${n > 1 ? 's' : ''} online, none crashed since it was last started or deployed`,
      details,
    };
  },
};

const STOPPED = 'stopped on purpose (`opsctl stop` or `pm2 stop`)';

function judge(p: Pm2Instance, now: number, logged: Pm2Exit | undefined, recentCrashMs: number): Verdict {
  const name = instanceName(p);
  const exit = howItExited(p, logged);
  if (p.state === 'errored') {
    return {
      status: 'fail',
      problem: 'errored (PM2 gave up restarting it)',
      line: `${name}: errored: it kept exiting and PM2 stopped restarting it${exit ? ` (last ${exit})` : ''}`,
    };
  }
  if (p.state === 'waiting restart') {
    return { status: 'fail', problem: 'crashed', line: `${name}: crashed (${exit || 'exited'}), PM2 restarts it soon` };
  }
  if (p.state === 'stopped' || p.state === 'stopping') {
    return { status: 'warn', problem: STOPPED, line: `${name}: ${STOPPED}` };
  }
  if (p.state !== 'online' && p.state !== 'launching') {
    return { status: 'warn', problem: `is ${p.state}`, line: `${name}: ${p.state}` };
  }
  const since = ago(now - (p.startedAt ?? now));
  if (!crashedSinceStart(p)) return { status: 'pass', line: `${name}: online, up ${since}` };
  const recent = now - (p.startedAt ?? now) < recentCrashMs;
  const unstable = p.unstableRestarts ? `, ${p.unstableRestarts} restart(s) within a second of starting` : '';
  return {
    status: recent ? 'fail' : 'warn',
    problem: recent ? 'crashed' : `crashed ${since} ago`,
    line: `${name}: crashed and was restarted by PM2 ${since} ago (${exit || 'exited'}${unstable})`,
  };
}

/**
 * PM2 keeps only an exit code, 0 for a process a signal killed; its own log names the signal. SIGKILL is what the
 * kernel's out-of-memory killer sends, so say so: "exited with code 0" would send on-call looking in the wrong place.
 */
function howItExited(p: Pm2Instance, logged: Pm2Exit | undefined): string {
  return describeExit(logged?.code ?? p.exitCode, logged?.signal);
}

/** Restarted by PM2 itself since the last start on purpose (see processesCheck). */
function crashedSinceStart(p: Pm2Instance): boolean {
  if (p.unstableRestarts) return true;
  if (!p.startedAt || !p.startedOnPurposeAt) return false;
  return p.startedAt - p.startedOnPurposeAt > (p.killTimeoutMs ?? PM2_DEFAULT_KILL_TIMEOUT_MS) + RESTART_GRACE_MS;
}

function instanceName(p: Pm2Instance): string {
  return `${p.name}#${p.pmId}`;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** `port:<pkg>` where the package's own PM2 processes holding its port is a pass. */
export function ownPortCheck(pkg: AppPackage): Check {
  return {
    id: `port:${pkg.name}`,
    async run(ctx) {
      const pm2 = createPm2(ctx.runner, pm2Home(ctx.config.root, ctx.config.env), ctx.config.root);
      const isOwnProcess = await ownProcessPredicate(pm2, pkg.name).catch(() => () => false);
      return portCheck(pkg, { isOwnProcess }).run(ctx);
    },
  };
}
