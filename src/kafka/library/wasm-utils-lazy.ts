/**
 * Stands in for `@platformatic/wasm-utils` inside the Kafka library (checksum-modules.ts): CRC-32C
 * is the streamer's own; snappy and lz4 load the package's WASM module on first use. Its `bundled`
 * entry carries the module inline, so this also works inside a compiled executable, where the
 * default entry's `native.wasm` file does not exist (scripts/lib/build.ts).
 */
import { DynamicBuffer } from '@platformatic/dynamic-buffer';
import { crc32c as ours } from '../protocol/crc32c.ts';

type WasmUtils = typeof import('../../../node_modules/@platformatic/wasm-utils/dist/bundled.js');

let loaded: WasmUtils | undefined;

function wasm(): WasmUtils {
  loaded ??= require('@platformatic/wasm-utils/bundled') as WasmUtils;
  return loaded;
}

/** CRC-32C of the bytes, as the package's (which also takes a DynamicBuffer). */
export function crc32c(data: Uint8Array | DynamicBuffer): number {
  return ours(DynamicBuffer.isDynamicBuffer(data) ? (data as DynamicBuffer).buffer : (data as Uint8Array));
}

export const lz4Compress: WasmUtils['lz4Compress'] = (data) => wasm().lz4Compress(data);
export const lz4Decompress: WasmUtils['lz4Decompress'] = (data) => wasm().lz4Decompress(data);
export const snappyCompress: WasmUtils['snappyCompress'] = (data) => wasm().snappyCompress(data);
export const snappyDecompress: WasmUtils['snappyDecompress'] = (data) => wasm().snappyDecompress(data);
export const prepareInput: WasmUtils['prepareInput'] = (data) => wasm().prepareInput(data);
export const prepareOutput: WasmUtils['prepareOutput'] = (combined) => wasm().prepareOutput(combined);
