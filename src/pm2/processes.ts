/** One PM2 instance as opsctl shows it. PM2's environment dump is deliberately not kept. */
export interface Pm2Instance {
  name: string;
  pmId: number;
  pid: number;
  state: string;
  uptimeMs: number;
  restarts: number;
  memoryBytes: number;
  cpu: number;
  /** The opsctl release the instance runs (OPSCTL_RELEASE in its environment). */
  release?: string;
  execMode?: string;
  /** When the current process started (PM2's `pm_uptime`), ms since the epoch. */
  startedAt?: number;
  /**
   * When it was last started on purpose (PM2's `created_at`: set by start, restart and reload, kept when PM2 restarts
   * a process that exited on its own), ms since the epoch.
   */
  startedOnPurposeAt?: number;
  /** Restarts PM2 counts as unstable (the process lived less than `min_uptime`) since the last start on purpose. */
  unstableRestarts?: number;
  /** The exit code of the last exit PM2 saw, if any (cluster workers exit 0 after an uncaught exception). */
  exitCode?: number;
  /** The working directory PM2 runs it in (`pm_cwd`): opsctl's are under the app's `.opsctl/releases/`. */
  cwd?: string;
  /** How long PM2 waits for a process to stop before killing it (`kill_timeout`; PM2's default is 1600 ms). */
  killTimeoutMs?: number;
}

interface RawProcess {
  name?: string;
  pm_id?: number;
  pid?: number;
  monit?: { memory?: number; cpu?: number };
  pm2_env?: {
    status?: string;
    pm_uptime?: number;
    created_at?: number;
    restart_time?: number;
    unstable_restarts?: number;
    exit_code?: number;
    kill_timeout?: number;
    pm_cwd?: string;
    exec_mode?: string;
    OPSCTL_RELEASE?: string;
    env?: Record<string, unknown>;
  } & Record<string, unknown>;
}

/** Parse `pm2 jlist`. Only the listed fields survive: the env (with its secrets) is dropped here. */
export function parseJlist(stdout: string, now = Date.now()): Pm2Instance[] {
  const raw = readRaw(stdout);
  return raw.map((p) => {
    const env = p.pm2_env ?? {};
    const state = env.status ?? 'unknown';
    return {
      name: p.name ?? '',
      pmId: p.pm_id ?? -1,
      pid: p.pid ?? 0,
      state,
      uptimeMs: state === 'online' && env.pm_uptime ? Math.max(0, now - env.pm_uptime) : 0,
      restarts: env.restart_time ?? 0,
      memoryBytes: p.monit?.memory ?? 0,
      cpu: p.monit?.cpu ?? 0,
      release: typeof env.OPSCTL_RELEASE === 'string' ? env.OPSCTL_RELEASE : undefined,
      execMode: env.exec_mode,
      startedAt: env.pm_uptime,
      startedOnPurposeAt: env.created_at,
      unstableRestarts: env.unstable_restarts ?? 0,
      exitCode: typeof env.exit_code === 'number' ? env.exit_code : undefined,
      killTimeoutMs: typeof env.kill_timeout === 'number' ? env.kill_timeout : undefined,
      cwd: typeof env.pm_cwd === 'string' ? env.pm_cwd : undefined,
    };
  });
}

/** The environment PM2 holds for an app (to tell whether a reload would change it). Never print it. */
export function parseAppEnv(stdout: string, name: string): Record<string, string> | undefined {
  const raw = readRaw(stdout);
  const env = raw.find((p) => p.name === name)?.pm2_env;
  if (!env) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The JSON array in jlist's output (PM2 may print "[PM2] Spawning PM2 daemon…" lines before it). */
function readRaw(stdout: string): RawProcess[] {
  const start = /^\[\s*(?:\{|\])/m.exec(stdout)?.index;
  if (start === undefined) return [];
  return JSON.parse(stdout.slice(start)) as RawProcess[];
}
