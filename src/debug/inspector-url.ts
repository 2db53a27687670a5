import { hostname, userInfo } from 'node:os';
import { relative } from 'node:path';

/** Where an inspector listens and how to reach it (README, "`opsctl debug`"). */
export interface InspectorAddress {
  /** `ws://127.0.0.1:9229/<uuid>`: what DevTools, VS Code and the CDP clients attach to. */
  url: string;
  host: string;
  port: number;
}

const LISTENING = /Debugger listening on (wss?:\/\/(\[[^\]]+\]|[^:/\s]+):(\d+)\/\S+)/;
const BIND_FAILED = /Starting inspector on (\S+?):(\d+) failed: (.+)$/;

/** The inspector Node announces on stderr: `Debugger listening on ws://127.0.0.1:9229/<uuid>`. */
export function parseListening(line: string): InspectorAddress | undefined {
  const match = LISTENING.exec(line);
  if (!match) return undefined;
  return { url: match[1]!, host: match[2]!.replace(/^\[|\]$/g, ''), port: Number(match[3]) };
}

/** Node's own words when it could not open the inspector (`Starting inspector on 127.0.0.1:9229 failed: address already in use`). */
export function parseBindFailure(line: string): { host: string; port: number; reason: string } | undefined {
  const match = BIND_FAILED.exec(line);
  return match ? { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]), reason: match[3]! } : undefined;
}

/** `127.0.0.1:9229`, `[::1]:9229`. */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The DevTools front end for this inspector (paste into Chrome's address bar). */
export function devtoolsUrl(address: InspectorAddress): string {
  return `devtools://devtools/bundled/js_app.html?experiments=true&v8only=true&ws=${address.url.replace(/^wss?:\/\//, '')}`;
}

/** `node inspect` takes `host:port`, not the ws:// URL (it would run that as a script). */
export function nodeInspectCommand(address: InspectorAddress): string {
  return `node inspect ${hostPort(address.host, address.port)}`;
}

/**
 * A VS Code `launch.json` configuration that attaches to the inspector, mapping the package's folder to the folder
 * the process runs in (`remoteDir`: for a deployed package, its release folder under `.opsctl/releases`).
 */
export function vscodeAttach(
  address: InspectorAddress,
  pkg: { name: string; dir: string },
  root: string,
  remoteDir = pkg.dir,
) {
  const local = relative(root, pkg.dir);
  return {
    type: 'node',
    request: 'attach',
    name: `Attach to ${pkg.name} (opsctl)`,
    address: address.host,
    port: address.port,
    localRoot: local ? `\${workspaceFolder}/${local}` : '${workspaceFolder}',
    remoteRoot: remoteDir,
    skipFiles: ['<node_internals>/**'],
  };
}

/** How to reach a loopback inspector on this host from another machine: an SSH tunnel. */
export function sshTunnel(address: InspectorAddress): string {
  const local = hostPort(address.host, address.port);
  return `ssh -N -L ${address.port}:${local} ${userInfo().username}@${hostname()}`;
}
