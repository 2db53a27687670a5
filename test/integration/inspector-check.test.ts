import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { inspectorCheck } from '../../src/checks/inspector.js';
import { freePort } from '../../src/net/free-port.js';
import { findOpenInspectors } from '../../src/net/inspectors.js';
import { createRunner } from '../../src/process/runner.js';
import { checkContext } from '../helpers/check-context.js';
import { trackChildren } from '../helpers/children.js';

const children = trackChildren();

/** Start node with the given options and wait until its inspector says it is listening (on stderr). */
async function startNode(nodeArgs: string[], script = 'setInterval(() => {}, 1000)'): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...nodeArgs, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('Debugger listening on')) resolve();
    });
    child.on('exit', () => reject(new Error(`node exited: ${stderr}`)));
  });
  return child;
}

const ctx = () => checkContext();

const ourInspectors = async (pid: number | undefined) =>
  (await findOpenInspectors({ runner: createRunner() }))?.filter((i) => i.pid === pid);

describe('inspector check against real node processes', () => {
  it('fails for an inspector bound to 0.0.0.0 and names the process', async () => {
    const port = await freePort();
    const child = await startNode([`--inspect=0.0.0.0:${port}`]);
    const result = await inspectorCheck.run(ctx());
    expect(result.status).toBe('fail');
    expect(result.message).toContain(`PID ${child.pid}`);
    expect(result.message).toContain(`0.0.0.0:${port}`);
    expect(result.hint).toContain('127.0.0.1');
    expect(result.hint).toContain('ssh -L');
    expect(result.details?.join('\n')).toContain(`--inspect=0.0.0.0:${port}`);
  });

  it('passes with a note for a loopback inspector', async () => {
    const port = await freePort();
    const child = await startNode([`--inspect=127.0.0.1:${port}`]);
    expect(await ourInspectors(child.pid)).toEqual([
      expect.objectContaining({ pid: child.pid, address: '127.0.0.1', port, flag: `--inspect=127.0.0.1:${port}` }),
    ]);
    const result = await inspectorCheck.run(ctx());
    expect(result.status).toBe('pass');
    expect(result.message).toContain(`PID ${child.pid} on 127.0.0.1:${port}`);
  });

  it('finds an inspector on a random port (--inspect=0) by asking it', async () => {
    const child = await startNode(['--inspect=0']);
    const found = await ourInspectors(child.pid);
    expect(found).toHaveLength(1);
    expect(found?.[0]?.address).toBe('127.0.0.1');
    expect(found?.[0]?.port).toBeGreaterThan(0);
  });

  it('finds an inspector opened at run time on all interfaces, without any flag', async () => {
    const port = await freePort();
    const child = await startNode([], `require('inspector').open(${port}, '0.0.0.0'); setInterval(() => {}, 1000)`);
    const found = await ourInspectors(child.pid);
    expect(found).toEqual([expect.objectContaining({ address: '0.0.0.0', port, flag: undefined })]);
    expect((await inspectorCheck.run(ctx())).status).toBe('fail');
  });

  it('does not take an ordinary node server for an inspector', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        '-e',
        `require('http').createServer((q, s) => s.end('{}')).listen(${port}, '0.0.0.0', () => console.log('ready'))`,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    children.push(child);
    await once(child.stdout!, 'data');
    expect(await ourInspectors(child.pid)).toEqual([]);
  });
});
