import { join } from 'node:path';
import { pm2LogFiles, readLogTail } from '../pm2/logs.js';
import type { Pm2Instance } from '../pm2/processes.js';
import type { WatchEvent } from './types.js';

const LOG_LINES = 10;
/** PM2's daemon log line for an exit: `App [api:0] exited with code [0] via signal [SIGKILL]` (God.handleExit). */
const EXIT_LINE = /App \[(.+):(\d+)\] exited with code \[(-?\d+)\] via signal \[(\w+)\]/;

type Seen = Pick<Pm2Instance, 'pid' | 'restarts' | 'startedOnPurposeAt'>;

/**
 * Follows the app's PM2 instances between rounds and tells restarts nobody asked for (README, "`opsctl watch`").
 * PM2 counts opsctl's own reloads and restarts in `restart_time` too; those set PM2's `created_at` (start, restart
 * and reload do), while PM2 restarting a process that exited on its own keeps it: a higher count with the same
 * `created_at` is a crash, a kill or an out-of-memory stop. The first look only takes the baseline.
 */
export class RestartFollower {
  private seen: Map<string, Seen> | undefined;

  constructor(
    private readonly home: string,
    private readonly packages: string[],
  ) {}

  /** The restart events since the last look. */
  look(instances: Pm2Instance[], now: Date): WatchEvent[] {
    const ours = instances.filter((p) => this.packages.includes(p.name));
    const previous = this.seen;
    this.seen = new Map(ours.map((p) => [`${p.name}#${p.pmId}`, p]));
    if (!previous) return [];
    const events: WatchEvent[] = [];
    for (const p of ours) {
      const was = previous.get(`${p.name}#${p.pmId}`);
      if (!was || p.restarts <= was.restarts || p.startedOnPurposeAt !== was.startedOnPurposeAt) continue;
      events.push(this.restartEvent(p, p.restarts - was.restarts, now));
    }
    return events;
  }

  private restartEvent(p: Pm2Instance, times: number, now: Date): WatchEvent {
    const exit = this.lastExit(p);
    const code = exit?.code ?? p.exitCode;
    // PM2 writes SIGINT when the process exited on its own, without a signal
    const signal = exit?.signal && exit.signal !== 'SIGINT' ? exit.signal : undefined;
    const how = signal ? `killed by ${signal}` : code !== undefined ? `exited with code ${code}` : '';
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

  /** The daemon's last exit line for this instance (PM2 keeps no signal in its process list). */
  private lastExit(p: Pm2Instance): { code: number; signal: string } | undefined {
    const lines = readLogTail([join(this.home, 'pm2.log')], 200);
    for (const line of lines.reverse()) {
      const m = EXIT_LINE.exec(line);
      if (m && m[1] === p.name && Number(m[2]) === p.pmId) return { code: Number(m[3]), signal: m[4]! };
    }
    return undefined;
  }
}
