import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { OpsError } from '../errors.js';
import type { Runner } from '../process/runner.js';

const TAR_TIMEOUT_MS = 5 * 60_000; // an app with its node_modules can be hundreds of MB

/** A gzipped tar made to be copied to hosts, named by the hash of its bytes. */
export interface Archive {
  file: string;
  /** sha256 of the file, hex. */
  sha256: string;
}

/**
 * Pack `entries` (relative to `cwd`) into `file`, reproducibly (sorted names, no times, no owners): the same
 * content gives the same bytes, so a host that has them already is skipped.
 */
export async function packArchive(
  runner: Runner,
  cwd: string,
  entries: string[],
  file: string,
  exclude: string[] = [],
): Promise<Archive> {
  const args = [
    '--create',
    '--file',
    file,
    '--use-compress-program=gzip -n',
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mode=u+rw',
    ...exclude.map((pattern) => `--exclude=${pattern}`),
    '--',
    ...entries,
  ];
  const res = await runner.run('tar', args, { cwd, timeoutMs: TAR_TIMEOUT_MS });
  if (res.exitCode !== 0) {
    throw new OpsError(
      'PACK_FAILED',
      `Packing ${cwd} failed: ${res.stderr.trim().split('\n').at(-1) ?? res.exitCode}.`,
      {
        hint: 'GNU tar and gzip are needed on the machine running opsctl.',
      },
    );
  }
  return { file, sha256: await sha256File(file) };
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
