import { describe, expect, it } from 'vitest';
import { makeApp, useAppDatabase } from './migrate-setup.js';

/**
 * README "JSON shapes": `dryRun` and `notRun` are in the documents of migrate, rollback and redo outside a dry run
 * too, `dryRun` in db seed's, and redo's document carries the drift warning the terminal shows.
 */
const { t, cli, doc } = useAppDatabase();

const FILES = {
  'migrations/0001_a.sql': '-- up\ncreate table a (id int);\n-- down\ndrop table a;\n',
  'migrations/0002_b.sql': '-- up\ncreate table b (id int);\n-- down\ndrop table b;\n',
  'seeds/001_a.sql': 'insert into a values (1);\n',
};

describe('JSON shapes outside a dry run', () => {
  it('migrate, rollback and migrate redo always have dryRun and notRun; db seed has dryRun', async () => {
    t.app = makeApp(FILES);
    const up = await cli(['migrate', '--json']);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(doc(up.stdout)).toMatchObject({ applied: ['0001_a', '0002_b'], dryRun: false, notRun: [] });
    const redo = await cli(['migrate', 'redo', '--yes', '--json']);
    expect(redo.exitCode, redo.stderr).toBe(0);
    expect(doc(redo.stdout)).toMatchObject({
      reverted: ['0002_b'],
      applied: ['0002_b'],
      dryRun: false,
      notRun: [],
      warnings: [],
    });
    const rollback = await cli(['rollback', '--yes', '--json']);
    expect(rollback.exitCode, rollback.stderr).toBe(0);
    expect(doc(rollback.stdout)).toMatchObject({ reverted: ['0002_b'], dryRun: false, notRun: [] });
    const seed = await cli(['db', 'seed', '--json']);
    expect(seed.exitCode, seed.stderr).toBe(0);
    expect(doc(seed.stdout)).toMatchObject({ seeds: ['001_a'], dryRun: false });
  });

  it('migrate redo --json over a drifted migration says so in warnings (as the terminal does)', async () => {
    t.app = makeApp(FILES);
    expect((await cli(['migrate'])).exitCode).toBe(0);
    t.app.write('migrations/0002_b.sql', '-- up\ncreate table b (id int, note text);\n-- down\ndrop table b;\n');
    const redo = await cli(['migrate', 'redo', '--yes', '--json']);
    expect(redo.exitCode, redo.stderr).toBe(0);
    expect(doc(redo.stdout).warnings).toEqual([
      '0002_b changed since it was applied: it is reverted and applied as the file is now.',
    ]);
    const dry = await cli(['migrate', 'redo', '--dry-run', '--json']);
    expect(doc(dry.stdout)).toMatchObject({ dryRun: true, warnings: [] });
  });
});
