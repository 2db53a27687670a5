import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { opsctl } from '../helpers/cli.js';
import { hasScript } from '../helpers/pty.js';
import { type PtySession, startPty } from '../helpers/pty-session.js';
import { cliEnv, createDatabase, makeApp, type TestDatabase, testServers, useServer } from './migrate-setup.js';

/**
 * Confirmations name their target, and production's guard (README, "Confirmations"): rollback on a real
 * pseudo-terminal answered by typing, and the same commands without a terminal.
 */
const FILES = {
  'migrations/0001_first.sql': '-- up\ncreate table first (id int);\n-- down\ndrop table first;\n',
  'migrations/0002_second.sql': '-- up\ncreate table second (id int);\n-- down\ndrop table second;\n',
  'backend/package.json': JSON.stringify({ name: 'backend', scripts: { start: 'node server.js' } }),
};

describe.each(testServers())('confirmations name their target ($label)', (server) => {
  const serverUrl = useServer(server);
  let db: TestDatabase;
  let app: ReturnType<typeof makeApp>;
  let session: PtySession | undefined;
  const run = (args: string[], env: Record<string, string | undefined> = {}) =>
    opsctl(['-C', app.root, ...args], { env: { ...cliEnv(db.url), ...env } });
  const onPty = (args: string[], env: Record<string, string | undefined> = {}) => {
    session = startPty(app.root, args, { ...cliEnv(db.url), CI: undefined, ...env });
    return session;
  };
  /** `user@host:port/name` of the test database, as the prompt must name it. */
  const target = () => {
    const url = new URL(db.url);
    return `${url.username}@${url.hostname}:${url.port}${url.pathname}`;
  };

  beforeEach(async () => {
    db = await createDatabase(serverUrl());
    app = makeApp(FILES);
    expect((await run(['migrate'])).exitCode).toBe(0);
  });
  afterEach(async () => {
    session?.kill();
    session = undefined;
    await db.drop();
    app.remove();
  });

  it.skipIf(!hasScript)('rollback names the migration and the database; n changes nothing, y reverts', async () => {
    const no = onPty(['rollback']);
    await no.waitFor(/\(y\/N\)/);
    expect(no.output()).toContain(`Roll back 0002_second on ${target()}? (y/N)`);
    // no `user:password@` anywhere (the trust-auth server's URL has no password to search for)
    expect(no.output()).not.toMatch(/[^\s/@]+:[^\s/@]*@/);
    const { password } = new URL(db.url);
    if (password) expect(no.output()).not.toContain(password);
    no.type('n\r');
    expect(await no.exited()).toBe(130);
    expect(no.output()).toContain('Cancelled; nothing was reverted.');
    expect(await db.applied()).toEqual(['0001_first', '0002_second']);

    const yes = onPty(['rollback']);
    await yes.waitFor(/\(y\/N\)/);
    yes.type('y\r');
    expect(await yes.exited()).toBe(0);
    expect(await db.applied()).toEqual(['0001_first']);
  });

  it.skipIf(!hasScript)('under production, y is not enough: the environment name must be typed', async () => {
    const wrong = onPty(['rollback', '--env', 'production']);
    await wrong.waitFor(/to go on:/);
    expect(wrong.output()).toContain(`Roll back 0002_second on ${target()} (production)?`);
    expect(wrong.output()).toContain("Type the environment's name (production) to go on:");
    wrong.type('y\r');
    expect(await wrong.exited()).toBe(130);
    expect(wrong.output()).toContain('Cancelled ("y" is not "production"); nothing was reverted.');
    expect(await db.applied()).toEqual(['0001_first', '0002_second']);

    // Ctrl-C at the prompt: the cancel message on a line of its own, not after the prompt
    const interrupted = onPty(['rollback', '--env', 'production']);
    await interrupted.waitFor(/to go on:/);
    interrupted.type('\u0003');
    expect(await interrupted.exited()).toBe(130);
    const lines = interrupted
      .output()
      .split(/\r?\n/)
      .map((l) => l.replace(/\r/g, ''));
    expect(
      lines.some((l) => l.startsWith('✖ Cancelled.')),
      interrupted.output(),
    ).toBe(true);
    expect(interrupted.output()).not.toMatch(/to go on: *✖/);
    expect(await db.applied()).toEqual(['0001_first', '0002_second']);

    // OPSCTL_ENV=production with --yes on a terminal: --yes does not count, the name is asked for, and it says why
    const typed = onPty(['rollback', '--yes'], { OPSCTL_ENV: 'production' });
    await typed.waitFor(/to go on:/);
    expect(typed.output()).toContain(
      '⚠ --yes is not enough here: under production it counts only with --env production on the command line (the environment came from OPSCTL_ENV).',
    );
    typed.type('production\r');
    expect(await typed.exited()).toBe(0);
    expect(await db.applied()).toEqual(['0001_first']);
  });

  it.skipIf(!hasScript)('stop under production names the packages, the app and the environment', async () => {
    const stop = onPty(['stop', '--env', 'production']);
    await stop.waitFor(/to go on:/);
    expect(stop.output()).toContain(`Stop backend of ${app.root} (production)?`);
    stop.type('staging\r');
    expect(await stop.exited()).toBe(130);
    expect(stop.output()).toContain('Cancelled ("staging" is not "production"); nothing was stopped.');
  });

  it('without a terminal, production needs --yes with --env production on the command line', async () => {
    const noYes = await run(['rollback', '--env', 'production']);
    expect(noYes.exitCode).toBe(2);
    expect(noYes.stderr).toContain('→ Pass --yes --env production to confirm');
    const fromEnv = await run(['rollback', '--yes', '--json'], { OPSCTL_ENV: 'production' });
    expect(fromEnv.exitCode).toBe(2);
    expect(JSON.parse(fromEnv.stdout).error).toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('--yes counts only with --env production on the command line'),
      hint: expect.stringContaining('Pass --yes --env production'),
    });
    expect(await db.applied()).toEqual(['0001_first', '0002_second']);

    const explicit = await run(['rollback', '--yes', '--env', 'production']);
    expect(explicit.exitCode).toBe(0);
    expect(explicit.stderr).toContain(`✔ --yes: Roll back 0002_second on ${target()} (production).`);
    expect(await db.applied()).toEqual(['0001_first']);
  });

  it.skipIf(!hasScript)('migrate --allow-drift over real drift under production asks for the name', async () => {
    app.write(
      'migrations/0001_first.sql',
      '-- up\ncreate table first (id int, changed int);\n-- down\ndrop table first;\n',
    );
    app.write('migrations/0003_third.sql', 'create table third (id int);\n');
    const asked = onPty(['migrate', '--allow-drift', '--env', 'production']);
    await asked.waitFor(/to go on:/);
    expect(asked.output()).toContain(`Migrate over drift (0001_first) on ${target()} (production)?`);
    asked.type('\r');
    expect(await asked.exited()).toBe(130);
    expect(asked.output()).toContain('Cancelled (no environment name typed); nothing was migrated.');
    expect(await db.applied()).toEqual(['0001_first', '0002_second']);

    const yes = await run(['migrate', '--allow-drift', '--yes', '--env', 'production']);
    expect(yes.exitCode, yes.stderr).toBe(0);
    expect(yes.stderr).toContain(`✔ --yes: Migrate over drift (0001_first) on ${target()} (production).`);
    expect(await db.applied()).toEqual(['0001_first', '0002_second', '0003_third']);
  });

  it('outside production, --yes says what it confirmed', async () => {
    const res = await run(['rollback', '--yes']);
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toContain(`✔ --yes: Roll back 0002_second on ${target()}.`);
  });

  it('migrate --allow-drift and stop are guarded under production', async () => {
    const drift = await run(['migrate', '--allow-drift', '--yes'], { OPSCTL_ENV: 'production' });
    expect(drift.exitCode).toBe(2);
    expect(drift.stderr).toContain(`✖ Migrate over drift on ${target()} (production): under production --yes`);
    const stop = await run(['stop'], { OPSCTL_ENV: 'production' });
    expect(stop.exitCode).toBe(2);
    expect(stop.stderr).toContain(`✖ Stop backend of ${app.root} (production): this needs confirmation`);
    expect(stop.stderr).toContain('→ Pass --yes --env production to confirm.');
    // outside production, --allow-drift with nothing drifted goes ahead as before
    expect((await run(['migrate', '--allow-drift'])).exitCode).toBe(0);
  });
});
