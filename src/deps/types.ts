/** How a dependency is declared, in npm's own terms (arborist edge types). */
export type EdgeType = 'prod' | 'dev' | 'optional' | 'peer' | 'peerOptional';

/** The kind opsctl reports: `dev` for devDependencies, `prod` for everything else. */
export type DependencyKind = 'prod' | 'dev';

export type Bump = 'major' | 'minor' | 'patch';

/** One direct dependency as declared in a package.json. */
export interface DeclaredDependency {
  name: string;
  spec: string;
  type: EdgeType;
}

/** One line of `opsctl outdated`: what `npm outdated --json` reports for a package, plus kind and bump. */
export interface OutdatedDependency {
  /** The app package (opsctl's name for it). */
  package: string;
  /** The dependency as npm names it (for an alias, npm's `alias:real@range` form). */
  name: string;
  kind: DependencyKind;
  /** The installed version; null when the dependency is not installed (npm: MISSING). */
  current: string | null;
  /** The highest version the declared range allows. */
  wanted: string;
  /** The registry's `latest` dist-tag (as npm picks it). */
  latest: string;
  /** The largest step from current to latest (or to wanted when that is below current); null when missing. */
  bump: Bump | null;
  /** Where it is installed (absent when missing). */
  location?: string;
}

/** The registry document subset opsctl reads (npm's abbreviated "corgi" packument). */
export interface Packument {
  name: string;
  'dist-tags'?: Record<string, string>;
  versions?: Record<string, PackumentVersion>;
}

export interface PackumentVersion {
  version: string;
  deprecated?: string;
  engines?: Record<string, string>;
}
