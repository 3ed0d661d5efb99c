/**
 * What the Kafka library's checksum and compression helpers resolve to in the streamer
 * (docs/benchmarks.md, "The Kafka library's WASM and native helpers"). The library computes
 * CRC-32C with the native `@node-rs/crc32` addon when it loads, else with `@platformatic/wasm-utils`
 * (a WASM module that also does snappy and lz4), and imports both as soon as any client is loaded:
 * ≈ 8.5 MB of resident memory for a checksum the streamer computes itself (src/kafka/protocol/
 * crc32c.ts: the produce path never calls the library's). kafkaHelpersPlugin resolves both package
 * names to the modules next to this file: CRC-32C is ours, snappy and lz4 load the library's WASM
 * module on their first use (only a topic compressed with them needs it).
 *
 * Registered at run time by src/main.ts and at build time by scripts/lib/build.ts; code loaded
 * without it (tests, benchmarks importing a sink directly) gets the packages themselves, which
 * compute the same values (test/unit/kafka/checksum-modules.test.ts).
 */
import { join } from 'node:path';

const HERE = import.meta.dir;

/** The package names replaced, and the module each resolves to. */
export const REPLACED_MODULES: Readonly<Record<string, string>> = {
  '@node-rs/crc32': join(HERE, 'node-rs-crc32.ts'),
  '@platformatic/wasm-utils': join(HERE, 'wasm-utils-lazy.ts'),
};

const FILTER = new RegExp(`^(${Object.keys(REPLACED_MODULES).map((name) => name.replace(/[/.@-]/g, (c) => `\\${c}`)).join('|')})$`);

/** For Bun.build: resolves the replaced package names (exactly those; their subpaths stay the packages'). */
export const kafkaHelpersBuildPlugin: Bun.BunPlugin = {
  name: 'kafka-library-helpers',
  setup(build) {
    build.onResolve({ filter: FILTER }, (args) => ({ path: REPLACED_MODULES[args.path] as string }));
  },
};

/**
 * For the running process (Bun.plugin, before the library is loaded): the replaced package names as
 * virtual modules with the same exports (the run-time resolver does not consult onResolve for
 * packages imported from node_modules; virtual modules it does).
 */
export const kafkaHelpersRuntimePlugin: Bun.BunPlugin = {
  name: 'kafka-library-helpers',
  setup(build) {
    for (const [name, path] of Object.entries(REPLACED_MODULES)) {
      build.module(name, () => ({ exports: require(path) as Record<string, unknown>, loader: 'object' }));
    }
  },
};
