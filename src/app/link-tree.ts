import { constants } from 'node:fs';
import { copyFile, link, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * Copy a package folder into a release folder. Sources are copied (an editor writing a file in place must
 * not change an older release); `node_modules` is hard-linked (npm replaces files, it does not edit them),
 * falling back to a copy across file systems. A relative symlink into the package (`node_modules/.bin/*`) stays
 * relative, so the release runs its own copy (README, "Deploy"); one leading out of it (npm's `file:` links) is made
 * absolute so it still points at the same place from the release folder.
 */
export async function copyRelease(src: string, dst: string, exclude: Set<string>): Promise<void> {
  await walk(resolve(src), dst, '', exclude, false);
}

async function walk(src: string, dst: string, rel: string, exclude: Set<string>, linked: boolean): Promise<void> {
  await mkdir(join(dst, rel), { recursive: true });
  const entries = await readdir(join(src, rel), { withFileTypes: true });
  await Promise.all(
    entries.map(async (e) => {
      if (!rel && exclude.has(e.name)) return;
      const path = rel ? join(rel, e.name) : e.name;
      const from = join(src, path);
      const to = join(dst, path);
      if (e.isSymbolicLink()) {
        const target = await readlink(from);
        const inside = !isAbsolute(target) && isInside(src, resolve(dirname(from), target));
        await symlink(isAbsolute(target) || inside ? target : resolve(dirname(from), target), to);
      } else if (e.isDirectory()) {
        await walk(src, dst, path, exclude, linked || e.name === 'node_modules');
      } else if (e.isFile()) {
        if (linked) await link(from, to).catch(() => copyFile(from, to));
        else await copyFile(from, to, constants.COPYFILE_FICLONE);
      }
    }),
  );
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel.split(sep)[0] !== '..' && !isAbsolute(rel));
}
