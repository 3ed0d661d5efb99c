import { StreamerError } from '../core/errors.ts';
import type { ServerIdentity, StateStore, StoredSnapshotRecord } from './store.ts';

/** A StateStore that keeps positions in memory only; for tests and configs without a state file. */
export function createMemoryStateStore(): StateStore {
  const positions = new Map<string, bigint>();
  const identities = new Map<string, ServerIdentity>();
  const snapshots = new Map<string, Map<string, string>>();
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
      if (position > (positions.get(source) ?? -1n)) positions.set(source, position);
    },
    getServerIdentity(source) {
      checkOpen();
      return identities.get(source);
    },
    setServerIdentity(source, identity) {
      checkOpen();
      identities.set(source, { ...identity });
    },
    getSnapshots(source): StoredSnapshotRecord[] {
      checkOpen();
      return [...(snapshots.get(source) ?? new Map<string, string>())].map(([id, body]) => ({ id, body }));
    },
    async saveSnapshot(source, id, body) {
      checkOpen();
      let records = snapshots.get(source);
      if (records === undefined) snapshots.set(source, (records = new Map()));
      records.set(id, body);
    },
    deleteSnapshot(source, id) {
      checkOpen();
      return snapshots.get(source)?.delete(id) ?? false;
    },
    resetSource(source) {
      checkOpen();
      const had = positions.has(source) || identities.has(source);
      positions.delete(source);
      identities.delete(source);
      return had;
    },
    close() {
      closed = true;
    },
  };
}
