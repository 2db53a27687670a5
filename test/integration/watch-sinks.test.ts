import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { addSecret, clearSecrets } from '../../src/output/redact.js';
import { createRunner } from '../../src/process/runner.js';
import { alertPayload } from '../../src/watch/payload.js';
import { deliver } from '../../src/watch/sinks.js';
import { type Receiver, startReceiver } from '../helpers/watch.js';

const dir = mkdtempSync(join(tmpdir(), 'opsctl-watch-sinks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
  clearSecrets();
});

const event = {
  event: 'fail' as const,
  check: 'redis',
  status: 'fail' as const,
  message: 'Redis is not running at 127.0.0.1:6390 (connection refused)',
  hint: 'Start Redis.',
  at: '2026-01-01T03:00:00.000Z',
};
const payload = alertPayload(event, 'shop', 'web-1');
const quick = { runner: createRunner(), signal: new AbortController().signal, backoffMs: 50 };

describe('alert delivery', () => {
  it('a 500, a 503, then a 200: delivered on the third attempt, each attempt logged, the same body both times', async () => {
    receiver = await startReceiver([500, 503]);
    const log: string[] = [];
    expect(await deliver({ webhook: receiver.url }, payload, { ...quick, log: (l) => log.push(l) })).toBe(true);
    expect(receiver.answers).toEqual([500, 503, 200]);
    expect(receiver.bodies).toEqual([JSON.parse(JSON.stringify(payload))]);
    expect(log).toEqual([
      expect.stringMatching(/^webhook http:\/\/127\.0\.0\.1:\d+: fail redis, attempt 1: HTTP 500$/),
      expect.stringMatching(/attempt 2: HTTP 503$/),
      expect.stringMatching(/attempt 3: delivered \(HTTP 200\)$/),
    ]);
  });

  it('a 4xx is a refusal, not a passing failure: one attempt', async () => {
    receiver = await startReceiver([404]);
    const log: string[] = [];
    expect(await deliver({ webhook: receiver.url }, payload, { ...quick, log: (l) => log.push(l) })).toBe(false);
    expect(receiver.answers).toEqual([404]);
    expect(log).toHaveLength(1);
  });

  it('a receiver that does not answer in time is retried; it never stops the caller', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      if (requests > 1) res.end('ok'); // the first request hangs
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const log: string[] = [];
    try {
      const ok = await deliver({ webhook: `http://127.0.0.1:${port}/` }, payload, {
        ...quick,
        timeoutMs: 300,
        log: (l) => log.push(l),
      });
      expect(ok).toBe(true);
      expect(log[0]).toMatch(/attempt 1: no answer in time$/);
      expect(requests).toBe(2);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('a command gets the JSON on stdin; a failing run is retried; a missing command is not', async () => {
    const script = join(dir, 'flaky.js');
    const out = join(dir, 'flaky.out');
    // fails the first time (no marker yet), then writes what it got
    writeFileSync(
      script,
      `const fs = require('node:fs'); const m = ${JSON.stringify(`${out}.marker`)};
       if (!fs.existsSync(m)) { fs.writeFileSync(m, ''); console.error('not yet'); process.exit(3); }
       let s = ''; process.stdin.on('data', (c) => (s += c)); process.stdin.on('end', () => fs.writeFileSync(${JSON.stringify(out)}, s));\n`,
    );
    const log: string[] = [];
    expect(await deliver({ command: [process.execPath, script] }, payload, { ...quick, log: (l) => log.push(l) })).toBe(
      true,
    );
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(JSON.parse(JSON.stringify(payload)));
    expect(log[0]).toMatch(/^command .+: fail redis, attempt 1: exit code 3: not yet$/);

    const missing: string[] = [];
    expect(
      await deliver({ command: [join(dir, 'no-such-command')] }, payload, { ...quick, log: (l) => missing.push(l) }),
    ).toBe(false);
    expect(missing).toHaveLength(1);
  });

  it('the payload: a Slack-style text line and the structured fields; secrets masked wherever they are', () => {
    expect(payload).toEqual({
      text: '[shop@web-1] FAIL redis: Redis is not running at 127.0.0.1:6390 (connection refused) → Start Redis.',
      ...event,
      app: 'shop',
      host: 'web-1',
    });
    addSecret('s3cret-token-42');
    const leaky = alertPayload(
      {
        ...event,
        message: 'could not reach redis://:hunter2pw@cache:6379 with s3cret-token-42',
        logTail: ['DATABASE_URL=postgres://app:dbpw-77x@db/shop'],
      },
      'shop',
      'web-1',
    );
    const text = JSON.stringify(leaky);
    for (const secret of ['hunter2pw', 's3cret-token-42', 'dbpw-77x']) expect(text).not.toContain(secret);
    expect(leaky.message).toBe('could not reach redis://:****@cache:6379 with ****');
    expect(leaky.text).toContain('redis://:****@cache:6379');
  });
});
