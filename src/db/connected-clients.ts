import { connectClient } from './migrate/connect.js';

/** Sessions of one application connected to a database server, from pg_stat_activity. */
export interface ClientGroup {
  /** Its `application_name`, or `(no application_name)` (node-postgres sets none unless told). */
  applicationName: string;
  /** Server-side pids of its sessions (pg_stat_activity.pid). */
  pids: number[];
  count: number;
}

const CHECK_TIMEOUT_MS = 3_000; // a question asked before stopping: a server that does not answer is not waited for

/** Every client session on the server but our own, grouped by application_name (never their queries). */
export async function readConnectedClients(url: string): Promise<ClientGroup[]> {
  const client = await connectClient(url, { connectTimeoutMs: CHECK_TIMEOUT_MS, statementTimeoutMs: CHECK_TIMEOUT_MS });
  try {
    const { rows } = await client.query<{ name: string; pids: number[]; count: string }>(
      `select coalesce(nullif(application_name, ''), '(no application_name)') as name,
              array_agg(pid order by pid) as pids, count(*) as count
         from pg_stat_activity
        where backend_type = 'client backend' and pid <> pg_backend_pid()
        group by 1 order by 1`,
    );
    return rows.map((r) => ({ applicationName: r.name, pids: r.pids.map(Number), count: Number(r.count) }));
  } finally {
    await client.end().catch(() => {});
  }
}

/** `backend (2 sessions: pid 4101, 4102), psql (1 session: pid 4200)` */
export function describeClients(groups: ClientGroup[]): string {
  return groups
    .map((g) => {
      const pids = g.pids.slice(0, 5).join(', ') + (g.pids.length > 5 ? ', …' : '');
      return `${g.applicationName} (${g.count} session${g.count === 1 ? '' : 's'}: pid ${pids})`;
    })
    .join(', ');
}
