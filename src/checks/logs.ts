import type { Check } from './types.js';

// PLACEHOLDER: being written; replaced before this lands.
export const logsCheck: Check = { id: 'logs', run: async () => ({ status: 'skip', message: 'not built yet' }) };
