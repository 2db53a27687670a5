import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach } from 'vitest';

/** Child processes a test started; each is killed (and waited for) after every test. */
export function trackChildren(): ChildProcess[] {
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      // a child killed by a signal has a signalCode and no exitCode: it has exited, and 'exit' will not come again
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
  });
  return children;
}
