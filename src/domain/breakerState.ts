import type { BreakerStateName } from './events.js';
import type { BreakerVendor, TenantId } from './vendor.js';

/**
 * One (tenant, vendor) breaker as the whole fleet shares it: a row of `breaker_state`
 * (DESIGN.md "Scale-out"). Times are epoch milliseconds of the writers' clocks.
 */
export interface SharedBreakerState {
  tenantId: TenantId;
  vendor: BreakerVendor;
  state: BreakerStateName;
  consecutiveFailures: number;
  /** The last opening, or null if it never opened. */
  openedAt: number | null;
  /** Increases with every admitted probe; an outcome names the probe it belongs to. */
  probeId: number;
  probeStartedAt: number | null;
  /** Who holds the current probe (a process id), while halfOpen. */
  probeOwner: string | null;
  /** When the current probe's lease runs out: after it, its answer changes nothing and another may probe. */
  probeLeaseUntil: number | null;
  /** Why the last transition happened. */
  reason: string | null;
  /** Increases with every write: a mirror keeps the newest it has seen. */
  generation: number;
}

/** What a write sets (the store bumps the generation itself). */
export type SharedBreakerFields = Omit<SharedBreakerState, 'tenantId' | 'vendor' | 'generation'>;

/** What {@link BreakerStateStore.update} did. */
export interface BreakerStateUpdate {
  /** The row as it stands after the update. */
  state: SharedBreakerState;
  /** Whether `step` wrote it. */
  wrote: boolean;
}

/** A subscription to the fleet's breaker writes. */
export interface BreakerStateListener {
  close(): Promise<void>;
}

/** The shared breakers' table (adapters/postgres/breakerState.ts; test/support has one in memory). */
export interface BreakerStateStore {
  /**
   * Reads the (tenant, vendor) row under its lock — inserting `initial` first when there is none —
   * and writes what `step` returns (null: leave it), in one transaction; a write bumps the
   * generation and tells every listener. Writers of one row are serialised.
   *
   * @throws the store's error (the caller falls back to its own mirror)
   */
  update(tenantId: TenantId, vendor: BreakerVendor, initial: SharedBreakerFields, step: (current: SharedBreakerState) => SharedBreakerFields | null): Promise<BreakerStateUpdate>;
  /** Every row. */
  all(): Promise<SharedBreakerState[]>;
  /**
   * Hands every row written from now on (by any process) to `onChange`, within about a second;
   * `onGap` after the subscription was lost and came back (writes meanwhile were missed).
   */
  listen(onChange: (state: SharedBreakerState) => void, onGap: () => void): Promise<BreakerStateListener>;
}
