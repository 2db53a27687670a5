import { hostPort, isLoopback } from '../net/address.js';
import { findOpenInspectors, type OpenInspector } from '../net/inspectors.js';
import type { Check } from './types.js';

const HINT =
  'Bind the inspector to loopback (--inspect=127.0.0.1:9229) and reach it through an SSH tunnel ' +
  '(ssh -L 9229:127.0.0.1:9229 <host>); restart the process without --inspect when you are done.';

/**
 * `inspector`: a Node.js debugger port reachable from the network lets anyone run code in the process. Inspectors are
 * found from each process' own arguments; no request is sent to any port (README, "doctor").
 */
export const inspectorCheck: Check = {
  id: 'inspector',
  async run({ runner, signal }) {
    const inspectors = await findOpenInspectors({ runner, signal });
    if (!inspectors) {
      return {
        status: 'skip',
        message: 'cannot see listening sockets on this host (no /proc/net, lsof or ss)',
        hint: 'Install lsof so opsctl can look for open inspector ports.',
      };
    }
    if (!inspectors.length) return { status: 'pass', message: 'no Node.js inspector is listening' };
    const exposed = inspectors.filter((i) => !isLoopback(i.address));
    const details = inspectors.map(describe);
    if (exposed.length) {
      const first = exposed[0]!;
      const more = exposed.length > 1 ? ` (and ${exposed.length - 1} more)` : '';
      return {
        status: 'fail',
        message: `inspector of PID ${first.pid} (${first.command}) listens on ${where(first)}${more}: anyone who can reach it can run code in the process`,
        hint: HINT,
        details,
      };
    }
    const n = inspectors.length;
    return {
      status: 'pass',
      message: `${n} inspector${n > 1 ? 's' : ''} open on loopback only (${inspectors.map((i) => `PID ${i.pid} on ${where(i)}`).join(', ')})`,
      details,
    };
  },
};

function describe(i: OpenInspector): string {
  const scope = isLoopback(i.address) ? 'loopback' : 'NETWORK';
  return `${scope}: ${where(i)} PID ${i.pid} (${i.command})${i.flag ? ` via ${i.flag}` : ''}`;
}

/** `127.0.0.1:9229`, or `127.0.0.1 (port not in its arguments)` for `--inspect=0` and PM2 cluster workers. */
function where(i: OpenInspector): string {
  return i.port ? hostPort(i.address, i.port) : `${i.address} (port not in its arguments)`;
}
