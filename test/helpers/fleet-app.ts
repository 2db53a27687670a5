import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { type CliResult, opsctl } from './cli.js';
import type { TestHosts } from './hosts.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/fleet-app', import.meta.url));
export const APP_PORT = 4100;
/** In the app's .env: a secret no output may show. */
export const SECRET = `fleet-secret-${process.pid}-Qw7`;

export interface FleetApp {
  dir: string;
  /** What the next release answers. */
  setVersion(version: string): void;
  /** Write targets (merged into the config: { name: target }). */
  setTargets(targets: Record<string, unknown>): void;
  run(args: string[], timeoutMs?: number): Promise<CliResult>;
  remove(): void;
}

/**
 * The fixture app in a temp folder, deployed to `/srv/shop` on the hosts, behind `haproxySocket` when given.
 * `extra.config`: more top-level config keys (e.g. database); `extra.env`: the environment opsctl runs with here.
 */
export function createFleetApp(
  hosts: TestHosts,
  haproxySocket?: string,
  extra: { config?: Record<string, unknown>; env?: Record<string, string> } = {},
): FleetApp {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-fleet-'));
  cpSync(FIXTURE, dir, { recursive: true });
  writeFileSync(join(dir, '.env'), `API_SECRET=${SECRET}\n`);
  const app: FleetApp = {
    dir,
    setVersion: (version) => writeFileSync(join(dir, 'api', 'VERSION'), `${version}\n`),
    setTargets(targets) {
      const config = {
        ...extra.config,
        packages: { api: { port: APP_PORT, health: '/health', stabilityWindow: 300 } },
        targets: {
          production: targetOf(
            hosts,
            hosts.hosts.map((h) => h.destination),
            hosts.knownHosts,
            haproxySocket,
          ),
          ...targets,
        },
      };
      writeFileSync(join(dir, 'opsctl.config.yaml'), stringify(config));
    },
    run: (args, timeoutMs = 180_000) =>
      opsctl(['-C', dir, ...args], { env: { PM2_HOME: undefined, ...extra.env }, timeoutMs }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  app.setTargets({});
  app.setVersion('v1');
  return app;
}

/** A target over `destinations` with the same ssh settings (for unreachable hosts and other known_hosts files). */
export function targetOf(hosts: TestHosts, destinations: string[], knownHosts = hosts.knownHosts, socket?: string) {
  return {
    hosts: destinations,
    path: '/srv/shop',
    ssh: { identityFile: hosts.identityFile, knownHosts, connectTimeout: 2 },
    ...(socket ? { loadBalancer: { haproxy: { socket, backend: 'api' } } } : {}),
  };
}

/** What each host's app answers on its own address (root namespace → host), '' when nothing. */
export function hostVersions(hosts: TestHosts): Promise<string[]> {
  return Promise.all(
    hosts.hosts.map((h) =>
      fetch(`http://${h.address}:${APP_PORT}/`, { signal: AbortSignal.timeout(2_000) })
        .then((r) => r.text())
        .then((t) => t.trim())
        .catch(() => ''),
    ),
  );
}
