import { StreamerError } from '../core/errors.ts';
import type { StateStore } from './store.ts';

/** A StateStore that keeps positions in memory only; for tests. */
export function createMemoryStateStore(): StateStore {
  const positions = new Map<string, bigint>();
  let closed = false;
  const checkOpen = () => {
    if (closed) throw new StreamerError('STATE_STORE', 'In-memory state store is closed', { retryable: false });
  };
  return {
    getPosition(source) {
      checkOpen();
      return positions.get(source);
    },
    async setPosition(source, position) {
      checkOpen();
      positions.set(source, position);
    },
    close() {
      closed = true;
    },
  };
}
