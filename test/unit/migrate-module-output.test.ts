import { afterEach, describe, expect, it, vi } from 'vitest';
import { withModuleOutputOnStderr } from '../../src/db/migrate/module-output.js';
import { addSecret } from '../../src/output/redact.js';

// issue 9: a JS migration's console output must not reach stdout, and must be redacted
describe('withModuleOutputOnStderr', () => {
  afterEach(() => vi.restoreAllMocks());

  // console.* is covered end to end (test/integration/migrate-defects.test.ts): vitest replaces the console here
  it('sends stdout writes to stderr, redacted, and restores both streams', async () => {
    addSecret('module-output-secret-1234');
    const stdoutWrite = process.stdout.write;
    const toStderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const toStdout = vi.spyOn(process.stdout, 'write');
    const patchedStdout = process.stdout.write;
    await withModuleOutputOnStderr(async () => {
      process.stdout.write('url postgres://app:module-output-secret-1234@db/app\n');
      process.stdout.write(Buffer.from('raw module-output-secret-1234\n'));
      process.stderr.write('err line\n');
    });
    expect(toStdout).not.toHaveBeenCalled();
    const written = toStderr.mock.calls.map((c) => String(c[0])).join('');
    expect(written).toContain('url postgres://app:****@db/app\n');
    expect(written).toContain('raw ****\n');
    expect(written).toContain('err line\n');
    expect(written).not.toContain('module-output-secret-1234');
    expect(process.stdout.write).toBe(patchedStdout);
    vi.restoreAllMocks();
    expect(process.stdout.write).toBe(stdoutWrite);
  });

  it('restores the streams when the module throws', async () => {
    const before = { out: process.stdout.write, err: process.stderr.write };
    await expect(
      withModuleOutputOnStderr(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(process.stdout.write).toBe(before.out);
    expect(process.stderr.write).toBe(before.err);
  });
});
