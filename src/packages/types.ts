/** One npm package of the app, as opsctl knows it (README, "Config"). */
export interface AppPackage {
  name: string;
  /** Absolute folder. */
  dir: string;
  /** Folder relative to the app root ("." for the root itself). */
  path: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  engines?: Record<string, string>;
  main?: string;
  port?: number;
  health?: string;
  debugPort?: number;
  instances?: number | 'max';
  dependsOn: string[];
  env: Record<string, string>;
  /** `requiredEnv` of the config: variables the package needs (doctor's `env` check). */
  requiredEnv?: string[];
  outputs: string[];
  /** `smoke` of the config: paths a new release must answer (each with its status, else any 2xx) before it goes live. */
  smoke?: SmokePath[];
  /** `stabilityWindow` of the config (ms): how long a new release must stay healthy after its first good probe. */
  stabilityWindow?: number;
}

export interface SmokePath {
  path: string;
  /** The expected status; absent: any 2xx. */
  status?: number;
}
