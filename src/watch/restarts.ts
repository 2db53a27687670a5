import { join } from 'node:path';
import { describeExit, type Pm2Exit, readLastExits } from '../logs/pm2-stamp.js';
import { readTail } from '../logs/read-tail.js';
import { pm2LogFiles, readLogTail } from '../pm2/logs.js';
import type { Pm2Instance } from '../pm2/processes.js';
import type { WatchEvent } from './types.js';

const LOG_LINES = 10;
/** How much of the end of PM2's own log is read for how an instance exited. */
const PM2_LOG_TAIL_BYTES = 256 * 1024;

type Seen = Pick<Pm2Instance, 'pid' | 'restarts' | 'startedOnPurposeAt'>;

/**
 * Follows the app's PM2 instances between rounds and tells restarts nobody asked for (README, "`opsctl watch`").
 * PM2 counts opsctl's own reloads and restarts in `restart_time` too; those set PM2's `created_at` (start, restart
 * and reload do), while PM2 restarting a process that exited on its own keeps it: a higher count with the same
 * `created_at` is a crash, a kill or an out-of-memory stop. The first look only takes the baseline.
 */
export class RestartFollower {
  private seen: Map<string, Seen> | undefined;
  /** Per instance: when its last restart event was sent, and the restarts not alerted since. */
  private readonly quiet = new Map<string, { since: number; pending: number }>();

  /**
   * `quietMs` (watch's `--repeat`): after a restart event, further restarts of the same instance are counted, not
   * sent, for this long; a crash loop is one alert, then one per `--repeat` with the count (README, "`opsctl watch`").
   */
  constructor(
    private readonly home: string,
    private readonly packages: string[],
    private readonly quietMs = 0,
  ) {}

  /** The restart events since the last look. */
  async look(instances: Pm2Instance[], now: Date): Promise<WatchEvent[]> {
    const ours = instances.filter((p) => this.packages.includes(p.name));
    const previous = this.seen;
    this.seen = new Map(ours.map((p) => [`${p.name}#${p.pmId}`, p]));
    if (!previous) return [];
    const due: Array<{ p: Pm2Instance; times: number }> = [];
    for (const p of ours) {
      const key = `${p.name}#${p.pmId}`;
      const was = previous.get(key);
      if (!was) continue;
      if (p.startedOnPurposeAt !== was.startedOnPurposeAt) this.quiet.delete(key); // started again on purpose
      if (p.restarts <= was.restarts || p.startedOnPurposeAt !== was.startedOnPurposeAt) continue;
      const q = this.quiet.get(key);
      const times = p.restarts - was.restarts + (q?.pending ?? 0);
      if (q && now.getTime() - q.since < this.quietMs) {
        q.pending = times;
        continue;
      }
      this.quiet.set(key, { since: now.getTime(), pending: 0 });
      due.push({ p, times });
    }
    if (!due.length) return [];
    // PM2 keeps no signal in its process list; its daemon log names it
    const exits = await readTail(join(this.home, 'pm2.log'), PM2_LOG_TAIL_BYTES).then(
      (tail) => readLastExits(tail.text),
      () => new Map<string, Pm2Exit>(),
    );
    return due.map(({ p, times }) => this.restartEvent(p, times, exits.get(`${p.name}:${p.pmId}`), now));
  }

  private restartEvent(p: Pm2Instance, times: number, exit: Pm2Exit | undefined, now: Date): WatchEvent {
    const signal = exit?.signal;
    // PM2 records code 0 for a process a signal killed: the signal alone says how it ended
    const code = signal ? undefined : (exit?.code ?? p.exitCode);
    const how = describeExit(code, signal);
    return {
      event: 'restart',
      check: 'processes',
      status: 'fail',
      message: `${p.name}#${p.pmId} restarted without opsctl asking${times > 1 ? ` (${times} times)` : ''}${how ? `: ${how}` : ''}`,
      hint: `Read why with \`opsctl logs ${p.name}\`; \`opsctl doctor --only processes\` shows its state.`,
      package: p.name,
      instance: p.pmId,
      ...(code !== undefined ? { exitCode: code } : {}),
      ...(signal ? { signal } : {}),
      logTail: readLogTail(pm2LogFiles(this.home, p.name), LOG_LINES),
      at: now.toISOString(),
    };
  }
}
