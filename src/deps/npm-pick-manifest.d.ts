// npm-pick-manifest ships no types; the part opsctl calls.
declare module 'npm-pick-manifest' {
  interface PickManifestOptions {
    defaultTag?: string;
    before?: string | Date;
    nodeVersion?: string;
    npmVersion?: string;
    includeStaged?: boolean;
    avoid?: string;
    avoidStrict?: boolean;
  }
  /** The manifest npm installs for `wanted`; throws `code: 'ETARGET'` when none matches. */
  export default function pickManifest(
    packument: object,
    wanted: string,
    options?: PickManifestOptions,
  ): { version: string; [key: string]: unknown };
}
