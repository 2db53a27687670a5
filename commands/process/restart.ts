import { control } from './control.js';

/** `opsctl restart [packages...]` */
export const restart = control('restart');
