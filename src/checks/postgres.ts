import type { Check } from './types.js';

// PLACEHOLDER: being written; replaced before this lands.
export const postgresCheck: Check = { id: 'postgres', run: async () => ({ status: 'skip', message: 'not built yet' }) };
