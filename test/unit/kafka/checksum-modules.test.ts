/**
 * src/kafka/library/checksum-modules.ts: the stand-ins for the Kafka library's `@node-rs/crc32` and
 * `@platformatic/wasm-utils` compute what the packages compute, and the run-time plugin makes the
 * library load them instead of the packages (docs/benchmarks.md, "The Kafka library's WASM and
 * native helpers").
 */
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { DynamicBuffer } from '@platformatic/dynamic-buffer';
import * as nativeCrc from '@node-rs/crc32';
import * as wasmUtils from '@platformatic/wasm-utils';
import { REPLACED_MODULES, kafkaHelpersBuildPlugin } from '../../../src/kafka/library/checksum-modules.ts';
import * as standInCrc from '../../../src/kafka/library/node-rs-crc32.ts';
import * as standInWasm from '../../../src/kafka/library/wasm-utils-lazy.ts';

const ROOT = join(import.meta.dir, '../../..');

/** Deterministic pseudo-random bytes. */
function bytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe('the stand-ins compute what the packages compute', () => {
  test('CRC-32C of 0 to 4,099 bytes at any offset, as @node-rs/crc32 and the WASM module', () => {
    for (let length = 0; length < 4100; length += length < 40 ? 1 : 97) {
      const data = bytes(length + 3, length + 1).subarray(3); // an offset view, as the library passes
      const expected = nativeCrc.crc32c(data);
      expect({ length, crc: standInCrc.crc32c(data) }).toEqual({ length, crc: expected });
      expect({ length, crc: standInWasm.crc32c(data) }).toEqual({ length, crc: wasmUtils.crc32c(data) });
      expect(wasmUtils.crc32c(data)).toBe(expected);
    }
    expect(standInCrc.crc32c('123456789')).toBe(0xe3069283); // the check value of CRC-32C
  });

  test('CRC-32C of a DynamicBuffer (how the library checks a record batch it writes)', () => {
    const parts = [bytes(10, 1), bytes(1000, 2), bytes(3, 3)];
    const dynamic = new DynamicBuffer();
    for (const p of parts) dynamic.append(p);
    expect(standInWasm.crc32c(dynamic)).toBe(wasmUtils.crc32c(dynamic));
  });

  test('the addon stand-in refuses a continued CRC rather than computing something else', () => {
    expect(() => standInCrc.crc32c(bytes(8, 1), 0x1234)).toThrow(/initial state/);
    expect(standInCrc.crc32c(bytes(8, 1), 0)).toBe(nativeCrc.crc32c(bytes(8, 1)));
  });

  test('lz4 and snappy: the stand-in gives the package\'s bytes both ways', () => {
    const data = Buffer.concat([bytes(5000, 9), Buffer.alloc(5000, 'a')]);
    for (const [compress, decompress] of [['lz4Compress', 'lz4Decompress'], ['snappyCompress', 'snappyDecompress']] as const) {
      const packed = standInWasm[compress](data);
      expect(Buffer.from(packed)).toEqual(Buffer.from(wasmUtils[compress](data)));
      expect(Buffer.from(standInWasm[decompress](packed))).toEqual(data);
    }
  });
});

describe('the plugins', () => {
  test('the build plugin resolves exactly the two package names, not their subpaths', () => {
    const resolved: Array<[string, string | undefined]> = [];
    let hook: ((args: { path: string }) => { path: string } | undefined) | undefined;
    let filter: RegExp | undefined;
    void kafkaHelpersBuildPlugin.setup({
      onResolve(options: { filter: RegExp }, callback: (args: { path: string }) => { path: string } | undefined) {
        filter = options.filter;
        hook = callback;
      },
    } as never);
    for (const name of ['@node-rs/crc32', '@platformatic/wasm-utils', '@platformatic/wasm-utils/bundled', '@node-rs/crc32-linux-x64-gnu', 'x@node-rs/crc32']) {
      resolved.push([name, filter?.test(name) ? hook?.({ path: name })?.path : undefined]);
    }
    expect(resolved).toEqual([
      ['@node-rs/crc32', REPLACED_MODULES['@node-rs/crc32']],
      ['@platformatic/wasm-utils', REPLACED_MODULES['@platformatic/wasm-utils']],
      ['@platformatic/wasm-utils/bundled', undefined],
      ['@node-rs/crc32-linux-x64-gnu', undefined],
      ['x@node-rs/crc32', undefined],
    ]);
  });

  /** What the library's checksum module loaded in a fresh process, with or without the run-time plugin. */
  function libraryLoads(withPlugin: boolean): { crc: number; loaded: string[]; lz4: string; loadedByLz4: string[] } {
    const script = `
      import { kafkaHelpersRuntimePlugin } from '${join(ROOT, 'src/kafka/library/checksum-modules.ts')}';
      if (${withPlugin}) Bun.plugin(kafkaHelpersRuntimePlugin);
      const { crc32c } = await import('${join(ROOT, 'node_modules/@platformatic/kafka/dist/protocol/crc32c.js')}');
      const { compressionsAlgorithms } = await import('${join(ROOT, 'src/kafka/library/producer.ts')}');
      const crc = crc32c(Buffer.from('123456789'));
      const packages = () => Object.keys(require.cache).filter((k) => /node_modules[/](@node-rs|@platformatic[/]wasm-utils)[/]/.test(k)).map((k) => k.slice(k.lastIndexOf('node_modules/') + 13)).sort();
      const loaded = packages();
      const lz4 = compressionsAlgorithms.lz4.decompressSync(compressionsAlgorithms.lz4.compressSync(Buffer.from('round trip'))).toString();
      const loadedByLz4 = packages().filter((k) => !loaded.includes(k));
      console.log(JSON.stringify({ crc, loaded, lz4, loadedByLz4 }));`;
    const run = Bun.spawnSync(['bun', '-e', script], { cwd: ROOT, stderr: 'pipe' });
    if (run.exitCode !== 0) throw new Error(run.stderr.toString());
    return JSON.parse(run.stdout.toString()) as { crc: number; loaded: string[]; lz4: string; loadedByLz4: string[] };
  }

  test('with the run-time plugin the library loads neither package (until lz4 or snappy is used), and computes the same', () => {
    const without = libraryLoads(false);
    expect(without.loaded).toEqual(expect.arrayContaining(['@node-rs/crc32/index.js', '@platformatic/wasm-utils/dist/index.js']));
    const withPlugin = libraryLoads(true);
    expect(withPlugin.crc).toBe(without.crc);
    expect(withPlugin.loaded).toEqual([]);
    expect(withPlugin.lz4).toBe('round trip');
    expect(withPlugin.loadedByLz4).toEqual(['@platformatic/wasm-utils/dist/bundled.js']);
  });
});
