import type { Check } from './types.js';

// PLACEHOLDER: being written; replaced before this lands.
export const redisCheck: Check = { id: 'redis', run: async () => ({ status: 'skip', message: 'not built yet' }) };
