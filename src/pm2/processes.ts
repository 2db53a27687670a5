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
}

interface RawProcess {
  name?: string;
  pm_id?: number;
  pid?: number;
  monit?: { memory?: number; cpu?: number };
  pm2_env?: {
    status?: string;
    pm_uptime?: number;
    restart_time?: number;
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
