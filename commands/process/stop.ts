import { control } from './control.js';

/** `opsctl stop [packages...]` */
export const stop = control('stop');
