/** Is this listening address reachable only from this machine? (127.0.0.0/8, ::1, and their IPv4-mapped forms) */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[|\]$/g, '');
  if (a === '::1' || a === 'localhost') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice('::ffff:'.length) : a;
  return /^127\.\d+\.\d+\.\d+$/.test(v4);
}

/** Is this the "every interface" address (0.0.0.0, ::)? */
export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '*';
}

/** `127.0.0.1:4000`, `[::]:9229`. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
