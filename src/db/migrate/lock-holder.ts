/** Who holds a lock another session waits for, from pg_stat_activity (never its query text or credentials). */
export interface LockHolder {
  pid: number;
  applicationName: string | null;
  /**
   * When its transaction started (a table lock is held until the transaction ends), else when its session
   * started (PostgreSQL does not record when a session-level advisory lock was taken).
   */
  since: Date | null;
  clientAddr: string | null;
}

/** "pid 123 (application_name "opsctl migrate", since 2026-01-01T10:00:00.000Z, from 10.0.0.5)" */
export function describeHolder(holder: LockHolder | undefined): string {
  if (!holder) return 'another session (it could not be identified)';
  const parts = [holder.applicationName ? `application_name "${holder.applicationName}"` : 'no application_name'];
  if (holder.since) parts.push(`since ${holder.since.toISOString()}`);
  if (holder.clientAddr) parts.push(`from ${holder.clientAddr}`);
  return `pid ${holder.pid} (${parts.join(', ')})`;
}

/** The session holding the migration lock, as pg_stat_activity shows it (`migrate unlock`). */
export interface LockSession extends LockHolder {
  /** pg_stat_activity.state: `active` (running a statement), `idle`, `idle in transaction`... */
  state: string | null;
  /** When `state` last changed (how long it has been idle). */
  stateChange: Date | null;
}
