import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readServers } from '../../src/lb/haproxy-runtime.js';
import { haproxyLoadBalancer, type LoadBalancer } from '../../src/lb/load-balancer.js';
import {
  type AppServer,
  hasHaproxy,
  NO_HAPROXY_REASON,
  startAppServer,
  startHaproxy,
  type TestHaproxy,
} from '../helpers/haproxy.js';
import { waitFor } from '../helpers/wait.js';

const HOST_A = '127.0.0.1';
const HOST_B = '127.0.0.2';

describe.skipIf(!hasHaproxy())('LoadBalancer over a real haproxy: two hosts, two packages in two backends', () => {
  if (!hasHaproxy()) it.skip(NO_HAPROXY_REASON, () => undefined);
  let haproxy: TestHaproxy;
  let apps: Record<string, AppServer>;
  let lb: LoadBalancer;

  beforeAll(async () => {
    apps = {};
    for (const [key, address] of [
      ['apiA', HOST_A],
      ['apiB', HOST_B],
      ['webA', HOST_A],
      ['webB', HOST_B],
    ] as const) {
      apps[key] = await startAppServer({ address, name: key });
    }
    const server = (name: string, address: string) => ({ name, address, port: apps[name]!.port });
    haproxy = await startHaproxy({
      backends: {
        shop_api: [server('apiA', HOST_A), server('apiB', HOST_B)],
        shop_web: [server('webA', HOST_A), server('webB', HOST_B)],
      },
    });
    lb = haproxyLoadBalancer(
      { socket: haproxy.socket, backends: { api: 'shop_api', web: 'shop_web' } },
      { drainTimeoutMs: 5_000, readyTimeoutMs: 5_000 },
    );
    await waitFor('every server UP', async () => {
      const all = [...(await lb.servers(HOST_A)), ...(await lb.servers(HOST_B))];
      return all.length === 4 && all.every((s) => s.status === 'UP');
    });
  });

  afterAll(async () => {
    await haproxy?.stop();
    for (const app of Object.values(apps ?? {})) await app.close();
  });

  it('finds each host’s servers across the backends, or in the backend of one package', async () => {
    expect((await lb.servers(HOST_A)).map((s) => `${s.backend}/${s.name}`)).toEqual(['shop_api/apiA', 'shop_web/webA']);
    expect((await lb.servers(HOST_B, 'web')).map((s) => s.name)).toEqual(['webB']);
    expect(await lb.servers(HOST_B, 'worker')).toEqual([]);
    expect(await lb.describe(HOST_A)).toBe(
      `HAProxy ${haproxy.socket}, backend shop_api, shop_web: shop_api/apiA, shop_web/webA for ${HOST_A}`,
    );
  });

  it('a single backend name puts every package behind it', async () => {
    const single = haproxyLoadBalancer({ socket: haproxy.socket, backends: 'shop_api' });
    expect((await single.servers(HOST_B, 'web')).map((s) => s.name)).toEqual(['apiB']);
  });

  it('verify: passes for hosts with servers; a host with none is a config error (exit 2) saying what to add', async () => {
    await lb.verify([HOST_A, HOST_B]);
    await expect(lb.verify([HOST_A, '127.0.0.9'])).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('no server with address 127.0.0.9 in backend shop_api, shop_web'),
      hint: expect.stringContaining('server <name> 127.0.0.9:<port> check'),
    });
  });

  it('takeOut puts only that host’s servers in maintenance (traffic goes to the other host); putBack brings them UP', async () => {
    const results = await lb.takeOut(HOST_A);
    expect(results).toEqual([
      { backend: 'shop_api', server: 'apiA', drained: true, sessions: 0 },
      { backend: 'shop_web', server: 'webA', drained: true, sessions: 0 },
    ]);
    const all = await readServers(haproxy.socket, 'shop_api');
    expect(all.map((s) => [s.name, s.admin, s.status])).toEqual([
      ['apiA', 'maint', 'MAINT'],
      ['apiB', 'ready', 'UP'],
    ]);
    const before = apps.apiA!.requests();
    for (let i = 0; i < 4; i++) expect(await (await fetch(`http://127.0.0.1:${haproxy.port}/`)).text()).toBe('apiB');
    expect(apps.apiA!.requests()).toBe(before);

    await lb.putBack(HOST_A);
    expect((await lb.servers(HOST_A)).map((s) => [s.name, s.admin, s.status])).toEqual([
      ['apiA', 'ready', 'UP'],
      ['webA', 'ready', 'UP'],
    ]);
  });

  it('putBack of a host whose app fails its health check: exit 3 naming the server', async () => {
    await lb.takeOut(HOST_B);
    apps.webB!.setUnhealthy(true);
    try {
      const quick = haproxyLoadBalancer(
        { socket: haproxy.socket, backends: { api: 'shop_api', web: 'shop_web' } },
        { readyTimeoutMs: 1_000 },
      );
      await expect(quick.putBack(HOST_B)).rejects.toMatchObject({
        exitCode: 3,
        message: expect.stringMatching(/shop_web\/webB is not UP after 1000 ms: DOWN/),
      });
      expect((await lb.servers(HOST_B, 'api'))[0]).toMatchObject({ name: 'apiB', status: 'UP' });
    } finally {
      apps.webB!.setUnhealthy(false);
    }
    await lb.putBack(HOST_B);
  });
});
