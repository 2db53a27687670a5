import { readTarget } from '../../src/config/target.js';
import { haproxyLoadBalancer } from '../../src/lb/load-balancer.js';
import { fleetExitCode, type HostOutcome, runOnHosts } from '../../src/remote/fleet-command.js';
import { hostGlobals } from '../../src/remote/host-files.js';
import { type GlobalOptions, type Invocation, runCommand } from './context.js';
import { err, errorJson, out, printError } from './output.js';

/**
 * `<command> --target <name>`: the command on every host (README, "Several hosts"). `--json`: `{target, hosts:
 * [{host, ok, ...the host's own document}]}`; else each host's own output under a header naming it.
 */
export function onTarget(
  invocation: Invocation<GlobalOptions & { target?: string }>,
  hostArgs: () => string[],
  timeoutMs: number,
): Promise<number> {
  return runCommand(invocation, async (cli) => {
    // inside runCommand: a usage error (logs --follow) is reported like any other, one JSON document included
    const args = hostArgs();
    const config = cli.config();
    const target = readTarget(config, invocation.opts.target!);
    const selected = cli.opts.package?.length ? ['-p', cli.opts.package.join(',')] : [];
    const outcomes = await runOnHosts(cli.runner, target, [...args, ...selected], {
      json: cli.json,
      globals: hostGlobals(config),
      timeoutMs,
    });
    const servers = args[0] === 'status' && target.loadBalancer ? await lbServers(target, config.root, outcomes) : {};
    const exitCode = fleetExitCode(outcomes);
    if (!cli.json) {
      for (const o of outcomes) {
        out(`── ${o.host} ${'─'.repeat(Math.max(3, 60 - o.host.length))}`);
        if (o.stdout) out(o.stdout);
        if (o.stderr) err(o.stderr);
        if (servers[o.host])
          out(
            `HAProxy: ${servers[o.host]!.map((s) => `${s.backend}/${s.name} ${s.status} (${s.sessions} sessions)`).join(', ')}`,
          );
        if (o.error) printError(o.error, cli.debug);
      }
      return exitCode;
    }
    return cli.finish(exitCode, {
      target: target.name,
      hosts: outcomes.map((o) => hostEntry(o, servers[o.host])),
    });
  });
}

function hostEntry(o: HostOutcome, servers: LbServer[] | undefined) {
  const { command: _command, durationMs: _ms, ok: _ok, exitCode: _code, ...doc } = o.doc ?? {};
  return {
    host: o.host,
    ok: o.exitCode === 0,
    exitCode: o.exitCode,
    ...doc,
    ...(servers ? { loadBalancer: servers } : {}),
    ...(o.error ? { error: errorJson(o.error) } : {}),
  };
}

interface LbServer {
  backend: string;
  name: string;
  status: string;
  address: string;
  sessions: number;
}

/** Each host's HAProxy servers with their state and current sessions (status --target with a load balancer). */
async function lbServers(
  target: ReturnType<typeof readTarget>,
  root: string,
  outcomes: HostOutcome[],
): Promise<Record<string, LbServer[]>> {
  const lb = haproxyLoadBalancer(target.loadBalancer!.haproxy, { root });
  const entries = await Promise.all(
    target.hosts.map(async (h) => {
      const found = await lb.servers(h.host).catch(() => []);
      return [
        h.name,
        found.map((s) => ({
          backend: s.backend,
          name: s.name,
          status: s.status,
          address: `${s.address}:${s.port}`,
          sessions: s.sessions,
        })),
      ] as const;
    }),
  );
  return Object.fromEntries(entries.filter(([name]) => outcomes.some((o) => o.host === name)));
}
