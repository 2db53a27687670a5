import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checksumOf, readMigrationSources } from '../../src/db/migrate/sources.js';
import {
  describeSqlError,
  findTransactionControl,
  hasNoTransactionMarker,
  splitSections,
  splitStatements,
} from '../../src/db/migrate/sql.js';
import { opsErrorOf } from '../helpers/errors.js';

const dirs: string[] = [];
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-src-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('splitSections', () => {
  it('splits -- up / -- down and remembers where each starts', () => {
    const s = splitSections('-- a comment\n-- up\ncreate table a (id int);\n-- down\ndrop table a;\n');
    expect(s.up).toEqual({ sql: 'create table a (id int);', line: 3 });
    expect(s.down).toEqual({ sql: 'drop table a;\n', line: 5 });
  });
  it('a file with neither marker is all up, with no down part', () => {
    expect(splitSections('select 1;\n')).toEqual({ up: { sql: 'select 1;\n', line: 1 } });
  });
  it('accepts markers in any case and with spaces, but not inside other comments', () => {
    const s = splitSections('--UP\nselect 1;\n--  Down  \nselect 2;\n-- upgrade notes\n');
    expect(s.up.sql).toBe('select 1;');
    expect(s.down?.sql).toBe('select 2;\n-- upgrade notes\n');
  });
});

describe('no-transaction marker', () => {
  it('is a line of its own', () => {
    expect(hasNoTransactionMarker('-- opsctl:no-transaction\ncreate index concurrently i on t (a);')).toBe(true);
    expect(hasNoTransactionMarker('-- use "-- opsctl:no-transaction" to opt out\nselect 1;')).toBe(false);
  });
});

describe('findTransactionControl (issue 9)', () => {
  it.each([
    ['commit;', 'commit'],
    ['COMMIT WORK;', 'COMMIT WORK'],
    ['commit and chain', 'commit and chain'],
    ['end;', 'end'],
    ['End Transaction;', 'End Transaction'],
    ['rollback;', 'rollback'],
    ['abort;', 'abort'],
    ['begin;', 'begin'],
    ['BEGIN ISOLATION LEVEL SERIALIZABLE;', 'BEGIN ISOLATION LEVEL SERIALIZABLE'],
    ['start transaction;', 'start transaction'],
    ["prepare transaction 'x';", "prepare transaction 'x'"],
    ['/* c */ commit;', 'commit'],
  ])('finds %s', (statement, found) => {
    const sql = `create table a (id int);\n${statement}\ncreate table b (id int);`;
    expect(findTransactionControl(sql)).toEqual({ sql: found, line: 2 });
  });
  it.each([
    'savepoint s1; rollback to savepoint s1; release savepoint s1;',
    'rollback to s1;',
    "insert into t values ('commit;');",
    '-- commit;\nselect 1;',
    'do $$ begin perform 1; end $$;',
    'create function f() returns void language plpgsql as $f$ begin commit; end; $f$;',
    'select 1 as begin;',
    'create table commit_log (id int);',
    'create function g() returns int language sql begin atomic select 1; select case when true then 2 end; end;',
    "select E'it\\'s; commit;';",
  ])('does not take %s for transaction control', (sql) => {
    expect(findTransactionControl(sql)).toBeUndefined();
  });
});

describe('splitStatements', () => {
  it('splits on top-level semicolons only, with each statement line', () => {
    const sql =
      'select \';\';\n-- a; comment\ncreate function f() returns int as $$ select 1; $$ language sql;\n/* x; */ select "a;b" from t;\n';
    expect(splitStatements(sql)).toEqual([
      { sql: "select ';'", line: 1 },
      { sql: '-- a; comment\ncreate function f() returns int as $$ select 1; $$ language sql', line: 2 },
      { sql: '/* x; */ select "a;b" from t', line: 4 },
    ]);
  });
  it('ignores empty statements and trailing comments', () => {
    expect(splitStatements(';;\n-- only a comment\n')).toEqual([]);
  });
  it('handles tagged dollar quotes and doubled quotes', () => {
    expect(splitStatements("do $body$ begin perform 1; end $body$; select 'it''s; fine';").map((s) => s.sql)).toEqual([
      'do $body$ begin perform 1; end $body$',
      "select 'it''s; fine'",
    ]);
  });
});

describe('describeSqlError', () => {
  it('maps the server position to the file line and column', () => {
    const part = { sql: 'create table a (id int);\nselect * from nope;', line: 3 };
    const err = Object.assign(new Error('relation "nope" does not exist'), { position: '40', code: '42P01' });
    expect(describeSqlError(err, '/x/0002_b.sql', part)).toBe(
      '0002_b.sql:4:15: relation "nope" does not exist [42P01]',
    );
  });
  it('without a position names the section start and keeps the server detail', () => {
    const err = Object.assign(new Error('duplicate key'), { code: '23505', detail: 'Key (id)=(1) already exists.' });
    expect(describeSqlError(err, '/x/0001_a.up.sql', { sql: 'insert ...', line: 1 })).toBe(
      '0001_a.up.sql:1: duplicate key [23505] (detail: Key (id)=(1) already exists.)',
    );
  });
  it('never says line 0: a part without a file line names the file only (issue 9)', () => {
    const err = Object.assign(new Error('duplicate key'), { code: '23505' });
    expect(describeSqlError(err, '/x/0001_a.up.sql', { sql: 'insert ...', line: 0 })).toBe(
      '0001_a.up.sql: duplicate key [23505]',
    );
  });
});

describe('readMigrationSources', () => {
  it('reads every format, ordered by name, and ignores files that are not migrations', () => {
    const dir = folder({
      '0002_b.up.sql': 'create table b ();',
      '0002_b.down.sql': 'drop table b;',
      '0001_a.sql': '-- up\nselect 1;\n-- down\nselect 2;',
      '0003_c.js': 'export const up = async () => {};',
      '0004_d.ts': 'export const up = async () => {};',
      '0004_d.d.ts': '',
      'README.md': '# notes',
      '.gitkeep': '',
      '_helpers.js': '',
    });
    const sources = readMigrationSources(dir);
    expect(sources.map((s) => [s.name, s.kind, s.version])).toEqual([
      ['0001_a', 'sql', '0001'],
      ['0002_b', 'sql', '0002'],
      ['0003_c', 'module', '0003'],
      ['0004_d', 'module', '0004'],
    ]);
    expect(sources[1]).toMatchObject({
      up: { sql: 'create table b ();', line: 1 },
      down: { sql: 'drop table b;', line: 1 },
      transaction: true,
    });
  });

  it('the checksum follows the up part and ignores CRLF vs LF', () => {
    const a = readMigrationSources(folder({ '0001_a.up.sql': 'select 1;\n', '0001_a.down.sql': 'select 2;' }))[0]!;
    const b = readMigrationSources(folder({ '0001_a.up.sql': 'select 1;\r\n', '0001_a.down.sql': 'select 3;' }))[0]!;
    const c = readMigrationSources(folder({ '0001_a.up.sql': 'select 2;\n' }))[0]!;
    expect(a.checksum).toBe(b.checksum);
    expect(a.checksum).not.toBe(c.checksum);
  });

  it('a single file: editing the -- down part leaves the checksum alone; the old whole-file one is kept (issue 9)', () => {
    const text = '-- up\ncreate table a (id int);\n-- down\ndrop table a;\n';
    const a = readMigrationSources(folder({ '0001_a.sql': text }))[0]!;
    const b = readMigrationSources(
      folder({ '0001_a.sql': text.replace('drop table a;', 'drop table a cascade;') }),
    )[0]!;
    const c = readMigrationSources(folder({ '0001_a.sql': text.replace('(id int)', '(id bigint)') }))[0]!;
    expect(a.checksum).toBe(b.checksum);
    expect(a.checksum).not.toBe(c.checksum);
    expect(a.checksum).toBe(checksumOf('create table a (id int);'));
    expect(a.legacyChecksum).toBe(checksumOf(text));
    // a file without sections is all up: one checksum, as before
    const plain = readMigrationSources(folder({ '0001_a.sql': 'select 1;\n' }))[0]!;
    expect(plain.checksum).toBe(checksumOf('select 1;\n'));
    expect(plain.legacyChecksum).toBeUndefined();
  });

  it('refuses a file name with whitespace for that reason (exit 2), naming a fix (issue 9)', () => {
    expect(opsErrorOf(() => readMigrationSources(folder({ '0001_add orders.sql': '' }), 'm'))).toEqual({
      exitCode: 2,
      message:
        'm: "0001_add orders.sql": a migration file name cannot contain spaces (rename it to 0001_add_orders.sql).',
    });
    expect(opsErrorOf(() => readMigrationSources(folder({ '0001_tab\there.up.sql': '' }), 'm')).message).toContain(
      'rename it to 0001_tab_here.up.sql',
    );
  });

  it('rejects two migrations with the same version (exit 2)', () => {
    expect(opsErrorOf(() => readMigrationSources(folder({ '0001_a.sql': '', '0001_b.js': '' }), 'migrations'))).toEqual(
      {
        exitCode: 2,
        message: 'migrations: two migrations share a version: 0001 (0001_a, 0001_b).',
      },
    );
  });

  it('rejects one migration in two formats, an orphan down file and an unversioned file (exit 2)', () => {
    expect(opsErrorOf(() => readMigrationSources(folder({ '0001_a.sql': '', '0001_a.up.sql': '' }), 'm')).message).toBe(
      'm: migration 0001_a is defined more than once (0001_a.sql, 0001_a.up.sql).',
    );
    expect(opsErrorOf(() => readMigrationSources(folder({ '0001_a.down.sql': '' }), 'm')).message).toContain(
      'no matching 0001_a.up.sql',
    );
    expect(opsErrorOf(() => readMigrationSources(folder({ 'init.sql': '' }), 'm'))).toEqual({
      exitCode: 2,
      message: 'm: init.sql does not start with a version (like 0001_name.sql).',
    });
  });
});
