import pkg from '../package.json' with { type: 'json' };

/** Program version, embedded at build time from package.json. */
export const VERSION: string = pkg.version;

// Replaced by scripts/build (Bun.build `define`) with a string literal such as
// "commit 1a2b3c4d5e6f, linux-x64-musl, bun 1.4.5"; undeclared when run from source.
declare const PSQL_STREAMER_BUILD_INFO: string | undefined;

/** How a compiled binary was built ('' when run from source). */
export const BUILD_INFO: string = typeof PSQL_STREAMER_BUILD_INFO === 'string' ? PSQL_STREAMER_BUILD_INFO : '';

/** `psql-streamer 2.0.0 (commit …, linux-x64, bun 1.4.5)`: what --version prints and the start log names. */
export const VERSION_LINE: string = `psql-streamer ${VERSION}${BUILD_INFO === '' ? '' : ` (${BUILD_INFO})`}`;
