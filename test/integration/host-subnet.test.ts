import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bridgeName,
  claimSubnet,
  cleanSubnet,
  namespaceName,
  ownerRecord,
  readBridgeAlias,
  writeBridgeAlias,
} from '../helpers/host-subnet.js';
import { hostsSkipReason, startHosts, type TestHosts } from '../helpers/hosts.js';

// the test hosts' subnets are claimed per run: two runs of the suite on one machine must not destroy each other's
const skip = hostsSkipReason();
if (skip) console.warn(`host-subnet: skipped: ${skip}`);

const bridgeExists = (n: number) => spawnSync('ip', ['link', 'show', bridgeName(n)]).status === 0;
const reaches = (address: string) =>
  new Promise<boolean>((done) => {
    const socket = connect(22, address);
    socket.setTimeout(2_000, () => done(false));
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });

describe.skipIf(skip)('test hosts: one subnet per run, claimed on the machine', () => {
  const cleanups: (() => void)[] = [];
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  it('two sets of hosts started at once get different subnets; stopping one leaves the other up', async () => {
    const [a, b] = (await Promise.all([startHosts(1), startHosts(1)])) as [TestHosts, TestHosts];
    cleanups.push(a.stop, b.stop);
    expect(a.subnet).not.toBe(b.subnet);
    expect(a.hosts[0]!.address).not.toBe(b.hosts[0]!.address);
    a.stop();
    expect(bridgeExists(a.subnet)).toBe(false);
    expect(bridgeExists(b.subnet)).toBe(true);
    expect(await reaches(b.hosts[0]!.address)).toBe(true);
    // the bridge records its owner: this process
    expect(readBridgeAlias(bridgeName(b.subnet))?.trim()).toBe(ownerRecord());
  }, 60_000);

  it("a live run's subnet is skipped, a dead run's is cleaned and reused, one not made here is never touched", async () => {
    const n = await claimSubnet();
    cleanups.push(() => cleanSubnet(n));
    // held by another live process (a second run of the suite)
    const other = spawn('sleep', ['60']);
    children.push(other);
    writeBridgeAlias(bridgeName(n), ownerRecord(other.pid));
    await expect(claimSubnet({ from: n, to: n })).rejects.toThrow(/no free test subnet/);
    expect(bridgeExists(n)).toBe(true);

    // its owner killed (a run killed before its afterAll), with a host namespace and a process in it left behind
    const dead = spawn('sleep', ['60']);
    const deadRecord = ownerRecord(dead.pid);
    dead.kill('SIGKILL');
    await once(dead, 'exit');
    writeBridgeAlias(bridgeName(n), deadRecord);
    const ns = namespaceName(n, 0);
    expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
    cleanups.push(() => spawnSync('ip', ['netns', 'del', ns]));
    const leftover = spawn('ip', ['netns', 'exec', ns, 'sleep', '60']);
    children.push(leftover);
    const leftoverExit = once(leftover, 'exit');
    await new Promise((r) => setTimeout(r, 200));
    expect(await claimSubnet({ from: n, to: n })).toBe(n);
    const [code, signal] = await leftoverExit;
    expect(code ?? signal).toBe('SIGKILL');
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toMatch(new RegExp(`^${ns} `, 'm'));
    expect(readBridgeAlias(bridgeName(n))?.trim()).toBe(ownerRecord());

    // a bridge of that name without an owner record (made by something else) is left alone
    writeBridgeAlias(bridgeName(n), '\n');
    await expect(claimSubnet({ from: n, to: n })).rejects.toThrow(/no free test subnet/);
    expect(bridgeExists(n)).toBe(true);
  }, 60_000);
});
