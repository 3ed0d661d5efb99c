/**
 * The UTF-8 bytes of an event's message key (the sink's `key`, message-key.ts), built with as little
 * per-event work as possible: a row key from the source's prebuilt key values (`keyValuesJson`)
 * around a per-table head, an `original` key shared while it repeats.
 */
import type { ChangeEvent } from '../core/event.ts';
import { originalKey, rowKey, type KeyMode } from './message-key.ts';

const utf8 = new TextEncoder();
const COMMA = 0x2c;
const CLOSE = 0x5d;

/** Builds key bytes for one sink (its own caches). */
export class KeyEncoder {
  private headSchema: string | undefined;
  private headTable: string | undefined;
  /** `["schema.table"` of the last table, as rowKey() writes it. */
  private head = new Uint8Array(0);
  private lastOriginal = '';
  private lastOriginalBytes: Uint8Array | undefined;

  constructor(private readonly mode: KeyMode) {}

  /** The key of an event's message, undefined for `key = "none"`. */
  keyOf(event: ChangeEvent): Uint8Array | undefined {
    switch (this.mode) {
      case 'row':
        return this.rowKeyOf(event);
      case 'none':
        return undefined;
      case 'original': {
        const key = originalKey(event);
        if (key !== this.lastOriginal || this.lastOriginalBytes === undefined) {
          this.lastOriginal = key;
          this.lastOriginalBytes = utf8.encode(key);
        }
        return this.lastOriginalBytes;
      }
    }
  }

  /** rowKey(event) as bytes: `["schema.table",` + keyValuesJson + `]` when the source built the values. */
  private rowKeyOf(event: ChangeEvent): Uint8Array {
    const values = event.keyValuesJson;
    if (values === undefined || event.action === 'message') return utf8.encode(rowKey(event));
    if (event.table !== this.headTable || event.schema !== this.headSchema) {
      const tableOnly = rowKey({ ...event, key: undefined, keyValuesJson: undefined });
      this.head = utf8.encode(tableOnly.slice(0, -1));
      this.headTable = event.table;
      this.headSchema = event.schema;
    }
    const head = this.head;
    if (values.length === 0) {
      const out = new Uint8Array(head.length + 1);
      out.set(head);
      out[head.length] = CLOSE;
      return out;
    }
    const out = new Uint8Array(head.length + values.length + 2);
    out.set(head);
    out[head.length] = COMMA;
    out.set(values, head.length + 1);
    out[out.length - 1] = CLOSE;
    return out;
  }
}
