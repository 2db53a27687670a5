import type pg from 'pg';
import type { AppliedRow, StateTable } from './state.js';

/** The step being run: what the storage needs to write its state row and close the transaction. */
export interface CurrentStep {
  name: string;
  checksum: string;
  startedAt: number;
  /** True when the step opened its own transaction, which the storage commits after writing the row. */
  transaction: boolean;
}

/**
 * The umzug context of one opsctl run: a connected client holding the migration lock, and the state.
 * Migrations themselves receive only `{ client }`.
 */
export interface Session {
  client: pg.Client;
  state: StateTable;
  /** The state table's rows by name, kept current by the storage. */
  applied: Map<string, AppliedRow>;
  /** Everything runs inside one transaction that is rolled back at the end. */
  dryRun: boolean;
  current?: CurrentStep;
  /** Dry run: migrations marked no-transaction, which cannot run inside the dry run's transaction. */
  notRun: string[];
}
