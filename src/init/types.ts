/** A value `opsctl init` found, and where (shown to the user before anything is written). */
export interface Found<T> {
  value: T;
  /** `backend/.env: PORT=4000`, `backend/server.js:63`, `script "start"`. */
  source: string;
}

/** One package as `init` sees it (README, "`opsctl init`"). */
export interface DetectedPackage {
  name: string;
  /** Folder relative to the app root. */
  path: string;
  /** Has a `start` script: a server that deploy starts, so its port and health matter. */
  starts: boolean;
  port?: Found<number>;
  health?: Found<string>;
  hasLockfile: boolean;
}

/** A URL the app reads from an environment variable (never its value: it may hold a password). */
export interface DetectedService {
  /** `DATABASE_URL`, `REDIS_URL`, or the app's own name for it. */
  variable: string;
  /** Why: the client library and where the variable was seen. */
  reasons: string[];
}

/** Everything `init` detected in an app. */
export interface DetectedApp {
  root: string;
  packages: DetectedPackage[];
  migrations?: Found<string> & { package?: string };
  /** An app migration tool (knex, Prisma...), when one owns the migrations. */
  tool?: Found<string> & { package: string };
  /** Detection could not decide (several tools): shown, nothing written for it. */
  toolProblem?: string;
  database?: DetectedService;
  redis?: DetectedService;
  /** Node.js major for CI, from the packages' engines (default 20). */
  nodeVersion: string;
}

/** What the user confirmed or corrected: the values written to the config. */
export interface InitAnswers {
  packages: Array<{ name: string; path: string; port?: number; health?: string }>;
  migrations?: string;
  tool?: string;
  databaseVariable?: string;
  redisVariable?: string;
}
