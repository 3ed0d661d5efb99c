/**
 * The UTF-8 bytes of an event's message key (the sink's `key`, event/key.ts): a row key from the
 * source's prebuilt row key when it has one (rowKeyBytes), an `original` key shared while it repeats.
 */
import type { ChangeEvent } from '../../event/event.ts';
import { originalKey, rowKeyBytes, type KeyMode } from '../../event/key.ts';

const utf8 = new TextEncoder();

/** Builds key bytes for one sink (its own caches). */
export class KeyEncoder {
  private lastOriginal = '';
  private lastOriginalBytes: Uint8Array | undefined;

  constructor(private readonly mode: KeyMode) {}

  /** The key of an event's message, undefined for `key = "none"`. */
  keyOf(event: ChangeEvent): Uint8Array | undefined {
    switch (this.mode) {
      case 'row':
        return rowKeyBytes(event);
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
}
