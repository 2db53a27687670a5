import { control } from './control.js';

/** `opsctl start [packages...]` */
export const start = control('start');
