import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { portCheck } from '../../src/checks/port.js';
import { freePort } from '../../src/net/free-port.js';
import { addSecret, clearSecrets } from '../../src/output/redact.js';
import { appPackage, checkContext } from '../helpers/check-context.js';
import { trackChildren } from '../helpers/children.js';

const children = trackChildren();

afterEach(() => {
  clearSecrets();
});

/** A real server in another process, so the holder's PID is not ours. Extra args show up in its cmdline. */
async function listenInChild(port: number, host: string, extraArgs: string[] = []): Promise<ChildProcess> {
  const script = `require('net').createServer().listen(${port}, '${host}', () => console.log('ready'))`;
  // "--" ends node's options, so the extra args reach the script (and its cmdline) untouched
  const child = spawn(process.execPath, ['-e', script, '--', ...extraArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const ready = await Promise.race([
    once(child.stdout!, 'data').then(String),
    once(child, 'exit').then(() => 'exited'),
  ]);
  expect(ready).toContain('ready');
  return child;
}

const pkg = (port: number | undefined) => appPackage({ name: 'backend', port });

const ctx = () => checkContext();

describe('port check against real sockets', () => {
  it('skips a package without a port and says how to set one', async () => {
    const result = await portCheck(pkg(undefined)).run(ctx());
    expect(result.status).toBe('skip');
    expect(result.hint).toContain('packages.backend.port');
  });

  it('passes when the port is free', async () => {
    const port = await freePort();
    const result = await portCheck(pkg(port)).run(ctx());
    expect(result).toMatchObject({ status: 'pass', message: `port ${port} is free` });
  });

  it('names the PID and command line of another process holding the port', async () => {
    const port = await freePort();
    const child = await listenInChild(port, '127.0.0.1', ['server-marker']);
    const result = await portCheck(pkg(port)).run(ctx());
    expect(result.status).toBe('fail');
    expect(result.message).toMatch(
      new RegExp(`^port ${port} is in use by PID ${child.pid} \\(.*node.* -e .*server-marker\\)$`),
    );
    expect(result.hint).toContain(`kill ${child.pid}`);
    expect(result.details?.[0]).toContain('127.0.0.1');
  });

  it('finds an IPv6 wildcard listener', async () => {
    const port = await freePort();
    const child = await listenInChild(port, '::');
    const result = await portCheck(pkg(port)).run(ctx());
    expect(result.status).toBe('fail');
    expect(result.message).toContain(`PID ${child.pid}`);
    expect(result.details?.join('\n')).toContain('::');
  });

  it('redacts secrets in the holder command line', async () => {
    const port = await freePort();
    addSecret('hunter2-very-secret');
    await listenInChild(port, '127.0.0.1', ['--db-password=s3cr3t-value', 'postgres://app:hunter2-very-secret@db/x']);
    const result = await portCheck(pkg(port)).run(ctx());
    const text = JSON.stringify(result);
    expect(result.status).toBe('fail');
    expect(text).not.toContain('s3cr3t-value');
    expect(text).not.toContain('hunter2-very-secret');
    expect(text).toContain('--db-password=****');
  });

  it('passes when isOwnProcess recognises the holder', async () => {
    const port = await freePort();
    const child = await listenInChild(port, '127.0.0.1');
    const seen: number[] = [];
    const isOwnProcess = (pid: number) => {
      seen.push(pid);
      return pid === child.pid;
    };
    const check = portCheck(pkg(port), { isOwnProcess });
    const result = await check.run(ctx());
    expect(seen).toEqual([child.pid]);
    expect(result.status).toBe('pass');
    expect(result.message).toContain(`held by backend itself (PID ${child.pid}`);
  });
});
