/** A listening socket as lsof or ss report it (used where /proc/net is unavailable). */
export interface ToolListener {
  address: string;
  port: number;
  pid?: number;
  /** The short process name the tool shows (not the full command line). */
  name?: string;
}

/** Parse `lsof -nP -iTCP -sTCP:LISTEN -Fpcn`: `p<pid>`, `c<name>`, then `n<addr>:<port>` per socket. */
export function parseLsofFields(text: string): ToolListener[] {
  const out: ToolListener[] = [];
  let pid: number | undefined;
  let name: string | undefined;
  for (const line of text.split('\n')) {
    const tag = line[0];
    const value = line.slice(1);
    if (tag === 'p') [pid, name] = [Number(value), undefined];
    else if (tag === 'c') name = value;
    else if (tag === 'n') {
      const endpoint = splitEndpoint(value);
      if (endpoint) out.push({ ...endpoint, pid, name });
    }
  }
  return out;
}

/** Parse `ss -ltnp`: `LISTEN 0 511 127.0.0.1:4000 0.0.0.0:* users:(("node",pid=1234,fd=20))`. */
export function parseSsListen(text: string): ToolListener[] {
  const out: ToolListener[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] !== 'LISTEN' || !fields[3]) continue;
    const endpoint = splitEndpoint(fields[3]);
    if (!endpoint) continue;
    const users = /\(\("([^"]*)",pid=(\d+)/.exec(line);
    out.push({ ...endpoint, pid: users ? Number(users[2]) : undefined, name: users?.[1] });
  }
  return out;
}

/** `127.0.0.1:4000`, `*:4000`, `[::1]:4000`, `[::]:4000`, `0.0.0.0%lo:53` → address and port. */
function splitEndpoint(text: string): { address: string; port: number } | undefined {
  const match = /^\[?(.*?)\]?:(\d+)$/.exec(text.trim());
  if (!match) return undefined;
  const address = (match[1] ?? '').replace(/%.*$/, '');
  return { address: address === '*' ? '0.0.0.0' : address, port: Number(match[2]) };
}
