/** Types of demo-build.js (plain JS: the demo runs before anything is built). */
export declare const BUILD_OUTPUTS: string[];
export declare function isBuilt(repo: string): boolean;
