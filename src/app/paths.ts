import { join } from 'node:path';

/** Where the app's releases, their PM2 ecosystem files and deploy's build cache live, under `.opsctl/`. */
export function deployPaths(root: string) {
  const base = join(root, '.opsctl');
  return {
    state: join(base, 'deploy', 'state.json'),
    apps: join(base, 'deploy', 'pm2'),
    releases: (pkg: string) => join(base, 'releases', pkg),
    current: (pkg: string) => join(base, 'releases', pkg, 'current'),
  };
}
