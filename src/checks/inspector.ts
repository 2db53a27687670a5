import type { Check } from './types.js';

// PLACEHOLDER: being written; replaced before this lands.
export const inspectorCheck: Check = { id: 'inspector', run: async () => ({ status: 'skip', message: 'not built yet' }) };
