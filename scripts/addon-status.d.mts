// Types of addon-status.mjs, for lib/native.ts.
export interface AddonLocation {
  /** The .node file node-gyp-build would load. */
  file: string;
  /** `prebuilt`: shipped under prebuilds/; `source`: built on this machine under build/. */
  kind: 'prebuilt' | 'source';
}
export interface AddonFailure {
  reason: string;
  file?: string;
  kind?: 'prebuilt' | 'source';
}
export interface PrebuildInfo {
  libtorch: string;
  runtime: string;
  [key: string]: unknown;
}
export const APT_RUNTIME: string;
export const APT_BUILD: string;
export const BUILD_INFO: string;
export function platformTag(): string;
export function locateAddon(root: string): AddonLocation | undefined;
export function readBuildInfo(addonFile: string): PrebuildInfo | undefined;
export function probeAddon(root: string): ({ ok: true } & AddonLocation) | ({ ok: false } & AddonFailure);
export function explainLoadFailure(root: string, failure: AddonFailure): string;
export function torchConfig(): string | undefined;
