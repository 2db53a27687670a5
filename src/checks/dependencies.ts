import type { Check } from './types.js';

// PLACEHOLDER: being written; replaced before this lands.
export const dependenciesCheck: Check = { id: 'dependencies', run: async () => ({ status: 'skip', message: 'not built yet' }) };
