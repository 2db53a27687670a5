import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { matchesPrismaChecksum } from '../../src/db/tools/prisma.js';
import { typeormMigrationName } from '../../src/db/tools/typeorm.js';

describe("Prisma's checksum rule", () => {
  const script = 'CREATE TABLE "A" ("id" INT);\nCREATE TABLE "B" ("id" INT);\n';
  const digest = createHash('sha256').update(script).digest();

  it('matches the SHA-256 hex of migration.sql, with either line ending', () => {
    expect(matchesPrismaChecksum(script, digest.toString('hex'))).toBe(true);
    expect(matchesPrismaChecksum(script.replaceAll('\n', '\r\n'), digest.toString('hex'))).toBe(true);
    expect(matchesPrismaChecksum(`${script}-- edited\n`, digest.toString('hex'))).toBe(false);
  });

  it('matches the unpadded hex an older engine wrote (prisma-engines issue 1887)', () => {
    // a digest with a byte below 0x10, so the old format is shorter than 64 characters
    let text = 'x';
    const digestOf = (t: string) => createHash('sha256').update(t).digest();
    while (!digestOf(text).some((b) => b < 0x10)) text += 'x';
    const bytes = digestOf(text);
    const old = [...bytes].map((b) => b.toString(16)).join('');
    expect(old.length).toBeLessThan(64);
    expect(matchesPrismaChecksum(text, old)).toBe(true);
    expect(matchesPrismaChecksum(`${text}y`, old)).toBe(false);
  });
});

describe('the name TypeORM records for a migration file', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const named = (file: string, text: string) => {
    dir = mkdtempSync(join(tmpdir(), 'opsctl-typeorm-name-'));
    writeFileSync(join(dir, file), text);
    return typeormMigrationName(join(dir, file));
  };

  it('is the class name, as the generator writes it', () => {
    expect(
      named(
        '1700000000000-CreateUser.ts',
        'export class CreateUser1700000000000 implements MigrationInterface {\n  async up() {}\n}\n',
      ),
    ).toBe('CreateUser1700000000000');
  });

  it('is the `name` property when the class sets one', () => {
    expect(
      named('1700000000000-CreateUser.ts', "export class X1700000000000 {\n  name = 'CreateUser1700000000000'\n}\n"),
    ).toBe('CreateUser1700000000000');
  });

  it("falls back to the generator's file name convention", () => {
    expect(named('1700000000000-AddIndex.js', 'module.exports = makeMigration();\n')).toBe('AddIndex1700000000000');
  });
});
