/**
 * The body of a Kafka Produce request (API key 0) around record batches that are already encoded,
 * pure. Versions 3-8 use the classic encoding, 9 and later the flexible one (compact strings and
 * arrays, tagged fields); the fields are the same (Kafka protocol guide, "Produce Request"; 12 is 11
 * on the wire, for transactions of protocol 2, src/sinks/kafka/txn-v2.ts):
 *
 *   transactional_id nullable string (null unless the batches belong to a transaction) | acks int16 | timeout_ms int32
 *   | [topic_data: name string | [partition_data: index int32 | records bytes]]
 *
 * The body is returned as chunks, so the batches are not copied (the Kafka sink writes them to the
 * socket as they are: src/sinks/kafka/request-splice.ts).
 */

/** The lowest and highest Produce versions we encode (Kafka 4 refuses versions below 3). */
export const PRODUCE_MIN_VERSION = 3;
export const PRODUCE_MAX_VERSION = 12;
const FIRST_FLEXIBLE_VERSION = 9;

export interface ProducePartition {
  readonly partition: number;
  /** One encoded record batch (record-batch.ts). */
  readonly batch: Uint8Array;
}

export interface ProduceTopic {
  readonly topic: string;
  readonly partitions: readonly ProducePartition[];
}

const utf8 = new TextEncoder();

/** Appends small fields to a buffer that grows; batches go out as their own chunks. */
class ChunkWriter {
  readonly chunks: Uint8Array[] = [];
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) {
      this.buf = new Uint8Array(n);
      this.view = new DataView(this.buf.buffer);
    }
  }

  private flush(): void {
    if (this.pos > 0) this.chunks.push(this.buf.subarray(0, this.pos));
    this.buf = new Uint8Array(this.buf.length);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
  }

  int16(n: number): void {
    this.room(2);
    this.view.setInt16(this.pos, n);
    this.pos += 2;
  }

  int32(n: number): void {
    this.room(4);
    this.view.setInt32(this.pos, n);
    this.pos += 4;
  }

  unsignedVarint(n: number): void {
    this.room(5);
    let v = n >>> 0;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  bytes(data: Uint8Array): void {
    this.room(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** A large block as its own chunk, not copied. */
  chunk(data: Uint8Array): void {
    this.flush();
    this.chunks.push(data);
  }

  finish(): Uint8Array[] {
    this.flush();
    return this.chunks;
  }
}

/**
 * The Produce request body of `version` (PRODUCE_MIN_VERSION .. PRODUCE_MAX_VERSION).
 * @param timeoutMs how long the brokers may wait for the replicas `acks` asks for.
 */
export function encodeProduceRequest(
  version: number, acks: number, timeoutMs: number, topics: readonly ProduceTopic[], transactionalId: string | null = null,
): Uint8Array[] {
  if (version < PRODUCE_MIN_VERSION || version > PRODUCE_MAX_VERSION) throw new RangeError(`Produce version ${version} is not supported`);
  const flexible = version >= FIRST_FLEXIBLE_VERSION;
  const w = new ChunkWriter();
  const count = (n: number) => (flexible ? w.unsignedVarint(n + 1) : w.int32(n));
  const string = (text: string) => {
    const bytes = utf8.encode(text);
    if (flexible) w.unsignedVarint(bytes.length + 1);
    else w.int16(bytes.length);
    w.bytes(bytes);
  };
  if (transactionalId !== null) string(transactionalId);
  else if (flexible) w.unsignedVarint(0);
  else w.int16(-1);
  w.int16(acks);
  w.int32(timeoutMs);
  count(topics.length);
  for (const { topic, partitions } of topics) {
    string(topic);
    count(partitions.length);
    for (const { partition, batch } of partitions) {
      w.int32(partition);
      if (flexible) w.unsignedVarint(batch.length + 1);
      else w.int32(batch.length);
      w.chunk(batch);
      if (flexible) w.unsignedVarint(0); // partition tagged fields
    }
    if (flexible) w.unsignedVarint(0); // topic tagged fields
  }
  if (flexible) w.unsignedVarint(0); // request tagged fields
  return w.finish();
}
