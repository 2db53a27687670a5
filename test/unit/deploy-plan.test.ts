import { describe, expect, it } from 'vitest';
import type { AppPackage } from '../../src/packages/types.js';
import { scaleTarget } from '../../src/pm2/control.js';
import { startCommand } from '../../src/pm2/ecosystem.js';
import { parseJlist } from '../../src/pm2/processes.js';

const pkg = (start?: string): AppPackage => ({
  name: 'api',
  dir: '/app/api',
  path: 'api',
  scripts: start ? { start } : {},
  dependencies: {},
  devDependencies: {},
  dependsOn: [],
  env: {},
  outputs: ['dist'],
});

describe('deploy plan pieces', () => {
  it('runs `node <file>` start scripts in cluster mode and anything else through npm', () => {
    expect(startCommand(pkg('node server.js'))).toEqual({ script: 'server.js', args: [], nodeArgs: [], cluster: true });
    expect(startCommand(pkg('node --enable-source-maps dist/main.js --port 1'))).toEqual({
      script: 'dist/main.js',
      args: ['--port', '1'],
      nodeArgs: ['--enable-source-maps'],
      cluster: true,
    });
    expect(startCommand(pkg('next start'))?.cluster).toBe(false);
    expect(startCommand(pkg('node server.js && echo done'))?.cluster).toBe(false);
    expect(startCommand(pkg())).toBeUndefined();
  });

  it('computes scale targets: n, +n, -n; never below 1', () => {
    expect(scaleTarget('3', 1)).toBe(3);
    expect(scaleTarget('+2', 1)).toBe(3);
    expect(scaleTarget('-1', 2)).toBe(1);
    expect(() => scaleTarget('-2', 2)).toThrow(/at least 1|leave 0/);
    expect(() => scaleTarget('two', 2)).toThrow(/expected n/);
  });

  it('keeps only the listed fields of pm2 jlist (never the environment)', () => {
    const raw = JSON.stringify([
      {
        name: 'api',
        pm_id: 0,
        pid: 42,
        monit: { memory: 1024, cpu: 3 },
        pm2_env: {
          status: 'online',
          pm_uptime: 1000,
          restart_time: 2,
          OPSCTL_RELEASE: 'abc',
          DATABASE_URL: 'postgres://u:hunter22@h/db',
        },
      },
    ]);
    const [p] = parseJlist(`[PM2] noise\n${raw}`, 3000);
    expect(p).toEqual({
      name: 'api',
      pmId: 0,
      pid: 42,
      state: 'online',
      uptimeMs: 2000,
      restarts: 2,
      memoryBytes: 1024,
      cpu: 3,
      release: 'abc',
      execMode: undefined,
      startedAt: 1000,
      unstableRestarts: 0,
    });
    expect(JSON.stringify(p)).not.toContain('hunter22');
  });
});
