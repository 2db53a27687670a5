import type { UmzugStorage } from 'umzug';
import type { Session } from './session-types.js';
import { qualified } from './state.js';

/**
 * The umzug storage over the state table. It writes through the session's client, inside the transaction
 * the migration step opened, and commits it: the migration and its state row commit together or not at all.
 * `executed` answers from the session's cache, which is exact because every writer holds the migration lock.
 */
export function stateTableStorage(): UmzugStorage<Session> {
  return {
    async executed({ context }) {
      return [...context.applied.keys()];
    },
    async logMigration({ name, context }) {
      const step = context.current!;
      const durationMs = Math.round(performance.now() - step.startedAt);
      let appliedAt = new Date();
      await finish(context, async (commit) => {
        const { client } = context;
        const insert = `insert into ${qualified(context.state)} (name, checksum, duration_ms)`;
        if (commit) {
          // the row and the commit in one round trip: a simple query, so literals (escaped by pg)
          const values = `${client.escapeLiteral(name)}, ${client.escapeLiteral(step.checksum)}, ${durationMs}`;
          const results = (await client.query(
            `${insert} values (${values}) returning applied_at; commit`,
          )) as unknown as Array<{
            rows: Array<{ applied_at: Date }>;
          }>;
          appliedAt = results[0]!.rows[0]!.applied_at;
        } else {
          const { rows } = await client.query<{ applied_at: Date }>(
            `${insert} values ($1, $2, $3) returning applied_at`,
            [name, step.checksum, durationMs],
          );
          appliedAt = rows[0]!.applied_at;
        }
      });
      context.applied.set(name, { name, checksum: step.checksum, appliedAt, durationMs });
    },
    async unlogMigration({ name, context }) {
      await finish(context, async (commit) => {
        const { client } = context;
        const del = `delete from ${qualified(context.state)} where name =`;
        if (commit) await client.query(`${del} ${client.escapeLiteral(name)}; commit`);
        else await client.query(`${del} $1`, [name]);
      });
      context.applied.delete(name);
    },
  };
}

/** Write the state row and (when the step opened a transaction) commit; on failure roll back so neither remains. */
async function finish(session: Session, write: (commit: boolean) => Promise<void>): Promise<void> {
  const owned = session.current?.transaction === true;
  try {
    await write(owned);
  } catch (err) {
    if (owned) await session.client.query('rollback').catch(() => {});
    throw err;
  } finally {
    session.current = undefined;
  }
}
