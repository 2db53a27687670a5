import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { posix } from 'node:path';
import { ExitCode, OpsError } from '../errors.js';
import type { SshHost } from './ssh.js';

/** A lock's heartbeat older than this: its deploy was killed (or lost the host), the next one takes it over. */
export const FLEET_LOCK_STALE_S = 60;
/** How often a deploy holding hosts' locks refreshes them. */
export const FLEET_LOCK_HEARTBEAT_MS = 5_000;
const LOCK_TIMEOUT_MS = 30_000;

// Constant scripts, values as arguments. TAKE: $1 lock folder, $2 token, $3 owner, $4 stale seconds: prints
// `locked`, or `busy <seconds since its heartbeat> <owner>`. mkdir is the atomic step; a stale lock is moved aside
// (one taker wins the rename) then taken like a free one.
const TAKE =
  "const f=require('fs'),[l,t,o,s]=process.argv.slice(1),w=l+'/owner';f.mkdirSync(require('path').dirname(l),{recursive:true});" +
  "const take=()=>{f.mkdirSync(l);f.writeFileSync(w,t+'\\n'+o+'\\n');console.log('locked')};" +
  "try{take()}catch(e){if(e.code!=='EEXIST')throw e;let m;try{m=f.statSync(w).mtimeMs}catch{m=f.statSync(l).mtimeMs}" +
  "const age=Math.round((Date.now()-m)/1000);if(age<Number(s)){let h='';try{h=f.readFileSync(w,'utf8').split('\\n')[1]}catch{}" +
  "console.log('busy '+age+' '+h);process.exit(0)}const a=l+'.stale-'+process.pid;f.renameSync(l,a);f.rmSync(a,{recursive:true,force:true});take()}";
const OURS = '[ "$(head -n 1 "$1/owner" 2>/dev/null)" = "$2" ]';
const HEARTBEAT = `${OURS} && touch "$1/owner"`;
const RELEASE = `if ${OURS}; then rm -rf "$1"; fi`;

/** Who holds the locks of one `deploy --target` run (written on the hosts; no secret in it). */
export interface FleetLockOwner {
  token: string;
  text: string;
}

export function fleetLockOwner(): FleetLockOwner {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {}
  return {
    token: randomUUID(),
    text: `opsctl deploy --target (pid ${process.pid} on ${hostname()}, ${user}, since ${new Date().toISOString()})`,
  };
}

const lockDir = (path: string) => posix.join(path, '.opsctl', 'deploy-target.lock');

/**
 * Take the host's `deploy --target` lock (under the target's path) for this run: another run holding it (from any
 * machine) is exit 5 naming it, before anything changes there.
 */
export async function lockHost(ssh: SshHost, path: string, owner: FleetLockOwner): Promise<void> {
  const res = await ssh.run(
    [['node', '-e', TAKE, lockDir(path), owner.token, owner.text, String(FLEET_LOCK_STALE_S)]],
    { timeoutMs: LOCK_TIMEOUT_MS },
  );
  const answer = res.stdout.trim();
  if (res.exitCode === 0 && answer === 'locked') return;
  const busy = /^busy (\d+) ?(.*)$/.exec(answer);
  if (busy) {
    throw new OpsError(
      'HOST_LOCKED',
      `${ssh.host.name}: another deploy --target of ${path} runs there: ${busy[2] || 'owner unknown'}, last seen ${busy[1]} s ago.`,
      {
        hint: `Wait for it to finish, then run this again. Nothing was changed. A lock whose deploy was killed is taken over once it was last seen ${FLEET_LOCK_STALE_S} s ago (${lockDir(path)} on the host).`,
        exitCode: ExitCode.locked,
      },
    );
  }
  throw new OpsError(
    'HOST_STEP_FAILED',
    `${ssh.host.name}: taking the deploy lock failed (${res.stderr.trim().split('\n').at(-1) || `exit ${res.exitCode}`}).`,
    { hint: 'Check free disk space and permissions under the target path on that host.' },
  );
}

/** Keep the lock fresh (every FLEET_LOCK_HEARTBEAT_MS); best effort: a missed beat only ages it. */
export async function refreshHostLock(ssh: SshHost, path: string, owner: FleetLockOwner): Promise<void> {
  await ssh
    .run([['sh', '-c', HEARTBEAT, 'sh', lockDir(path), owner.token]], { timeoutMs: LOCK_TIMEOUT_MS })
    .catch(() => undefined);
}

/** Give the lock back (only if it is still this run's). */
export async function unlockHost(ssh: SshHost, path: string, owner: FleetLockOwner): Promise<void> {
  await ssh
    .run([['sh', '-c', RELEASE, 'sh', lockDir(path), owner.token]], { timeoutMs: LOCK_TIMEOUT_MS })
    .catch(() => undefined);
}
