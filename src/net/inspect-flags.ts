/** Where a Node.js process was told to open its inspector. */
export interface InspectFlag {
  host: string;
  /** 0 means "any free port" (`--inspect=0`). */
  port: number;
  /** The flag as written, for messages. */
  flag: string;
}

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 9229;
const INSPECT = /^--(inspect(?:-brk|-wait)?|inspect-port|debug-port)(?:=(.*))?$/;

/**
 * Read `--inspect[-brk|-wait][=[host:]port]` and `--inspect-port=[host:]port` from node's argv
 * (and NODE_OPTIONS). Undefined when the inspector is not requested; later flags override earlier ones.
 */
export function parseInspectFlags(args: string[]): InspectFlag | undefined {
  let found: InspectFlag | undefined;
  let portOverride: { host?: string; port: number } | undefined;
  for (const arg of args) {
    if (arg === '--') break;
    const match = INSPECT.exec(arg);
    if (!match) continue;
    const target = parseTarget(match[2]);
    if (match[1] === 'inspect-port' || match[1] === 'debug-port') {
      if (target.port !== undefined) portOverride = { host: target.host, port: target.port };
      continue;
    }
    found = { host: target.host ?? DEFAULT_HOST, port: target.port ?? DEFAULT_PORT, flag: arg };
  }
  if (!found) return undefined;
  if (portOverride) return { ...found, host: portOverride.host ?? found.host, port: portOverride.port };
  return found;
}

/** `9230`, `0.0.0.0`, `0.0.0.0:9230`, `[::]:9230`, `localhost:9230`. */
function parseTarget(value: string | undefined): { host?: string; port?: number } {
  if (!value) return {};
  if (/^\d+$/.test(value)) return { port: Number(value) };
  const withPort = /^\[?(.*?)\]?:(\d+)$/.exec(value);
  if (withPort) return { host: withPort[1], port: Number(withPort[2]) };
  return { host: value.replace(/^\[|\]$/g, '') };
}
