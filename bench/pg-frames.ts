/**
 * Benchmark of the backend frame splitter (src/pg/frames.ts): a synthetic stream of CopyData
 * messages (XLogData-shaped, ~150-byte payloads of varying size) cut into 64 KiB chunks, as socket
 * reads deliver them, so most chunks end in the middle of a message. Each payload is touched (first
 * byte and length), as the replication session would. Prints MB/s and ns per message (wall and CPU),
 * best and median of several rounds.
 *
 *   bun bench/pg-frames.ts [messages] [chunkBytes]
 */
import { FrameDecoder } from '../src/pg/frames.ts';

const total = Number(process.argv[2] ?? 1_000_000);
const chunkBytes = Number(process.argv[3] ?? 65_536);
const ROUNDS = 7;

// Payload sizes 120..180 bytes (mean 150), deterministic.
const sizes = Array.from({ length: total }, (_, i) => 120 + ((i * 7919) % 61));
const streamBytes = sizes.reduce((n, size) => n + 5 + size, 0);
const stream = new Uint8Array(streamBytes);
const view = new DataView(stream.buffer);
let at = 0;
for (let i = 0; i < total; i++) {
  const size = sizes[i]!;
  stream[at] = 0x64; // 'd' CopyData
  view.setInt32(at + 1, size + 4);
  stream[at + 5] = 0x77; // 'w' XLogData
  view.setBigUint64(at + 6, BigInt(i) * 150n);
  stream.fill(i & 0xff, at + 14, at + 5 + size);
  at += 5 + size;
}
const chunks: Uint8Array[] = [];
for (let offset = 0; offset < stream.length; offset += chunkBytes) chunks.push(stream.subarray(offset, offset + chunkBytes));

function round(): { wallNs: number; cpuNs: number; messages: number; checksum: number } {
  const decoder = new FrameDecoder();
  let messages = 0;
  let checksum = 0;
  const cpu0 = process.cpuUsage();
  const t0 = Bun.nanoseconds();
  for (const chunk of chunks) {
    decoder.push(chunk);
    while (decoder.next()) {
      const payload = decoder.payload;
      checksum = (checksum + payload[0]! + payload.length) | 0;
      messages += 1;
    }
  }
  const wallNs = Bun.nanoseconds() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallNs, cpuNs: (cpu.user + cpu.system) * 1000, messages, checksum };
}

round(); // warm-up (JIT)
const results = Array.from({ length: ROUNDS }, round);
for (const r of results) if (r.messages !== total) throw new Error(`decoded ${r.messages} of ${total} messages`);
const byWall = [...results].sort((a, b) => a.wallNs - b.wallNs);
const best = byWall[0]!;
const median = byWall[Math.floor(ROUNDS / 2)]!;
const mb = streamBytes / 1e6;
const line = (name: string, r: typeof best) =>
  `${name.padEnd(7)} ${(mb / (r.wallNs / 1e9)).toFixed(0).padStart(6)} MB/s  ${(r.wallNs / total).toFixed(1).padStart(6)} ns/message wall  ${(r.cpuNs / total).toFixed(1).padStart(6)} ns/message CPU`;
console.log(`frames.ts: ${total.toLocaleString('en')} CopyData messages, mean payload ${((streamBytes - 5 * total) / total).toFixed(0)} B, ${mb.toFixed(1)} MB in ${chunks.length} chunks of ${chunkBytes} B (bun ${Bun.version})`);
console.log(line('best', best));
console.log(line('median', median));
