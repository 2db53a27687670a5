/** Where a Node.js process was told to open its inspector. */
export interface InspectFlag {
  host: string;
  /** 0 means "any free port" (`--inspect=0`): the flag does not say which. */
  port: number;
  /** The flag as written, for messages. */
  flag: string;
  /**
   * True for `--inspect[-brk|-wait]`: the inspector opens at start. False for `--inspect-port` alone: it names the
   * port an inspector opened at run time takes (SIGUSR1, `inspector.open()`).
   */
  atStart: boolean;
}

export const DEFAULT_INSPECT_HOST = '127.0.0.1';
export const DEFAULT_INSPECT_PORT = 9229;
const INSPECT = /^--(inspect(?:-brk|-wait)?|inspect-port|debug-port)(?:=(.*))?$/;
/** Node options that take their value as the next argument (so that value is not the script). */
const TAKES_VALUE = new Set([
  '-e',
  '--eval',
  '-p',
  '--print',
  '-r',
  '--require',
  '--import',
  '--loader',
  '--experimental-loader',
  '-C',
  '--conditions',
  '--title',
  '--env-file',
  '--input-type',
]);

/**
 * Read `--inspect[-brk|-wait][=[host:]port]` and `--inspect-port=[host:]port` from node's own options (NODE_OPTIONS,
 * then argv without argv[0]). Node's options end at the script or `--` (not at `-e`'s code: node reads options
 * after it); what follows belongs to the app. Undefined when no inspector flag is given; later flags override earlier ones.
 */
export function parseInspectFlags(args: string[]): InspectFlag | undefined {
  let found: InspectFlag | undefined;
  let portOverride: { host?: string; port: number; flag: string } | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--' || !arg.startsWith('-')) break;
    if (TAKES_VALUE.has(arg)) {
      i++;
      continue;
    }
    const match = INSPECT.exec(arg);
    if (!match) continue;
    const target = parseTarget(match[2]);
    if (match[1] === 'inspect-port' || match[1] === 'debug-port') {
      if (target.port !== undefined) portOverride = { host: target.host, port: target.port, flag: arg };
      continue;
    }
    found = {
      host: target.host ?? DEFAULT_INSPECT_HOST,
      port: target.port ?? DEFAULT_INSPECT_PORT,
      flag: arg,
      atStart: true,
    };
  }
  if (!found && portOverride) {
    return {
      host: portOverride.host ?? DEFAULT_INSPECT_HOST,
      port: portOverride.port,
      flag: portOverride.flag,
      atStart: false,
    };
  }
  if (found && portOverride) return { ...found, host: portOverride.host ?? found.host, port: portOverride.port };
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
