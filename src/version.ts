/** The version the bundle was stamped with at build time (scripts/bundle.mjs); "dev" when run from the sources. */
declare const __TSFW_VERSION__: string | undefined;
export const VERSION = typeof __TSFW_VERSION__ === 'string' ? __TSFW_VERSION__ : 'dev';
