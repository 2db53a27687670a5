// zod/mini like schema.ts: the `targets.<name>` part of the config (README, "Several hosts: `--target`").
import * as z from 'zod/mini';

const backendName = z.string().check(z.regex(/^[A-Za-z0-9._:-]+$/, 'an HAProxy backend name'));

const haproxySchema = z.strictObject({
  /** The admin socket: a unix socket path on the machine running opsctl, or `tcp://host:port` / `host:port`. */
  socket: z.string().check(z.minLength(1)),
  /** One backend for every package of the host, or one per package (`{backend: api, frontend: web}`). */
  backend: z.union([backendName, z.record(z.string(), backendName)]),
});

export const targetSchema = z.strictObject({
  hosts: z
    .array(z.string().check(z.regex(/^[^\s'"`;|&$<>\\]+$/, 'an ssh destination such as deploy@10.0.0.11:2222')))
    .check(z.minLength(1)),
  path: z.string().check(z.regex(/^\/[^\s'"`;|&$<>\\]*[^/\s]$/, 'an absolute path on the hosts, such as /srv/shop')),
  ssh: z.optional(
    z.strictObject({
      identityFile: z.optional(z.string().check(z.minLength(1))),
      knownHosts: z.optional(z.string().check(z.minLength(1))),
      /** Seconds ssh waits for a host to answer before it counts as unreachable (default 10). */
      connectTimeout: z.optional(z.int().check(z.minimum(1), z.maximum(600))),
    }),
  ),
  loadBalancer: z.optional(z.strictObject({ haproxy: haproxySchema })),
  maxUnavailable: z.optional(z.int().check(z.minimum(1))),
  /** Where install + build run: here (default) or on the first host. */
  build: z.optional(z.enum(['local', 'remote'])),
});

export const targetsSchema = z.record(
  z.string().check(z.regex(/^[a-zA-Z0-9._-]+$/, 'letters, digits, ".", "_" or "-"')),
  targetSchema,
);

export type TargetConfig = z.output<typeof targetSchema>;
