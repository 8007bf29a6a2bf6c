import type { BreakerStateStore, SharedBreakerFields, SharedBreakerState } from '../../src/domain/index.js';

/** When an operation of the store may go on: a fast-check scheduler's `schedule`, or at once. */
export type Gate = (label: string) => Promise<void>;

/**
 * A {@link BreakerStateStore} in memory, for properties over interleavings: each update runs
 * atomically (as under the row's lock) once `gate` lets it, and each write reaches each listener
 * when `gate` lets that delivery, so a scheduler decides the order of everything across processes.
 * `writes` is the log of every write, in commit order.
 */
export function memoryBreakerStore(gate: Gate = () => Promise.resolve()): BreakerStateStore & { writes: SharedBreakerState[]; rows: Map<string, SharedBreakerState>; down: boolean } {
  const rows = new Map<string, SharedBreakerState>();
  const listeners = new Set<(s: SharedBreakerState) => void>();
  const writes: SharedBreakerState[] = [];
  const store = {
    rows,
    writes,
    down: false,
    async update(tenantId, vendor, initial: SharedBreakerFields, step) {
      await gate(`update ${tenantId} ${vendor}`);
      if (store.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      const key = `${tenantId}:${vendor}`;
      const current = rows.get(key) ?? { tenantId, vendor, ...initial, generation: 0 };
      rows.set(key, current);
      const next = step({ ...current });
      if (next === null) return { state: { ...current }, wrote: false };
      const written: SharedBreakerState = { tenantId, vendor, ...next, generation: current.generation + 1 };
      rows.set(key, written);
      writes.push(written);
      for (const listener of listeners) void gate(`notify ${tenantId} ${vendor} ${written.generation}`).then(() => listener({ ...written }));
      return { state: { ...written }, wrote: true };
    },
    async all() {
      if (store.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      return [...rows.values()].map((r) => ({ ...r }));
    },
    async listen(onChange) {
      listeners.add(onChange);
      return { close: async () => void listeners.delete(onChange) };
    },
  } satisfies BreakerStateStore & { writes: SharedBreakerState[]; rows: Map<string, SharedBreakerState>; down: boolean };
  return store;
}
