import type { AppPackage } from '../packages/types.js';
import { createPm2 } from '../pm2/cli.js';
import { isDaemonRunning, pm2Home } from '../pm2/home.js';
import { ownProcessPredicate } from '../pm2/own-process.js';
import { portCheck } from './port.js';
import type { Check, CheckResult } from './types.js';

const CRASH_LOOP_RESTARTS = 5; // this many restarts...
const CRASH_LOOP_UPTIME_MS = 60_000; // ...and up for less than this: it keeps dying

/** `processes`: crash loops (many restarts, short uptime) and errored or stopped instances under PM2. */
export const processesCheck: Check = {
  id: 'processes',
  async run({ config, runner }): Promise<CheckResult> {
    const home = pm2Home(config.root, config.env);
    if (!isDaemonRunning(home)) {
      return {
        status: 'skip',
        message: 'PM2 is not running for this app (nothing deployed)',
        hint: '`opsctl deploy` starts it.',
      };
    }
    const instances = (await createPm2(runner, home, config.root).jlist()).filter((p) =>
      config.packages.some((pkg) => pkg.name === p.name),
    );
    if (!instances.length) return { status: 'pass', message: 'no package is running under PM2' };
    const bad = instances.filter((p) => p.state === 'errored');
    const looping = instances.filter((p) => p.restarts >= CRASH_LOOP_RESTARTS && p.uptimeMs < CRASH_LOOP_UPTIME_MS);
    const stopped = instances.filter((p) => p.state === 'stopped');
    const details = [...bad, ...looping, ...stopped].map(
      (p) => `${p.name}#${p.pmId}: ${p.state}, ${p.restarts} restarts, up ${Math.round(p.uptimeMs / 1000)} s`,
    );
    if (bad.length || looping.length) {
      const names = [...new Set([...bad, ...looping].map((p) => p.name))];
      return {
        status: 'fail',
        message: `${names.join(', ')} ${bad.length ? 'errored' : 'is crash-looping'} (${details.length} instance(s))`,
        hint: `Read why with \`opsctl logs ${names[0]}\`; fix and \`opsctl deploy\`, or \`opsctl restart ${names[0]}\`.`,
        details,
      };
    }
    if (stopped.length) {
      return {
        status: 'warn',
        message: `${stopped.length} instance(s) stopped`,
        hint: '`opsctl start` starts them again.',
        details,
      };
    }
    const restarts = instances.reduce((n, p) => n + p.restarts, 0);
    return { status: 'pass', message: `${instances.length} instance(s) online, ${restarts} restart(s) in all` };
  },
};

/** `port:<pkg>` where the package's own PM2 processes holding its port is a pass. */
export function ownPortCheck(pkg: AppPackage): Check {
  return {
    id: `port:${pkg.name}`,
    async run(ctx) {
      const pm2 = createPm2(ctx.runner, pm2Home(ctx.config.root, ctx.config.env), ctx.config.root);
      const isOwnProcess = await ownProcessPredicate(pm2, pkg.name).catch(() => () => false);
      return portCheck(pkg, { isOwnProcess }).run(ctx);
    },
  };
}
