import { knexAdapter } from './knex.js';
import { nodePgMigrateAdapter } from './node-pg-migrate.js';
import { prismaAdapter } from './prisma.js';
import { scriptsTool } from './scripts.js';
import { sequelizeCli } from './sequelize-cli.js';
import { typeormAdapter } from './typeorm.js';
import type { AppToolId, ToolAdapter } from './types.js';
import { umzugSequelize } from './umzug-sequelize.js';

/** Every app tool opsctl can drive; one entry per adapter (README, "Apps with their own migration tool"). */
export const ADAPTERS: ToolAdapter[] = [
  umzugSequelize,
  sequelizeCli,
  knexAdapter,
  nodePgMigrateAdapter,
  typeormAdapter,
  prismaAdapter,
  scriptsTool,
];

export function adapterFor(id: AppToolId): ToolAdapter {
  const adapter = ADAPTERS.find((a) => a.id === id);
  if (!adapter) throw new Error(`No adapter for ${id}`);
  return adapter;
}
