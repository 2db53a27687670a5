import { request } from 'node:http';
import { isWildcard } from './address.js';

const PROBE_TIMEOUT_MS = 500; // the inspector answers at once; an app server that stalls is not one
const MAX_BODY = 4_096;

/**
 * Does a Node.js inspector answer on this socket? Its HTTP endpoint `/json/version` returns
 * `{"Browser": "node.js/v20…", "Protocol-Version": …}`. Needed for inspectors opened without a flag
 * (SIGUSR1, `inspector.open()`, `--inspect=0`).
 */
export async function isInspectorSocket(address: string, port: number, signal?: AbortSignal): Promise<boolean> {
  const host = connectHost(address);
  return new Promise((resolve) => {
    let responded = false;
    const req = request({ host, port, path: '/json/version', timeout: PROBE_TIMEOUT_MS, signal }, (res) => {
      responded = true;
      let body = '';
      const done = () => resolve(/"Browser"\s*:\s*"node\.js\//i.test(body));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > MAX_BODY) req.destroy();
      });
      res.on('end', done);
      res.on('close', done);
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.on('close', () => {
      if (!responded) resolve(false);
    });
    req.end();
  });
}

/** A wildcard socket is reached through loopback of its family; IPv4-mapped addresses as IPv4. */
function connectHost(address: string): string {
  if (isWildcard(address)) return address === '::' ? '::1' : '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}
