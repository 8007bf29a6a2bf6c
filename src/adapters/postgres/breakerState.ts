import type pg from 'pg';
import type { BreakerStateListener, BreakerStateStore, BreakerVendor, Logger, SharedBreakerFields, SharedBreakerState } from '../../domain/index.js';

/** The channel every write of `breaker_state` is announced on. */
export const BREAKER_CHANNEL = 'lead_enrich_breaker';

const COLUMNS = `tenant_id, vendor, state, consecutive_failures, probe_id, probe_owner, reason, generation,
  (extract(epoch FROM opened_at) * 1000)::float8 AS opened_at_ms,
  (extract(epoch FROM probe_started_at) * 1000)::float8 AS probe_started_at_ms,
  (extract(epoch FROM probe_lease_until) * 1000)::float8 AS probe_lease_until_ms`;

interface Row {
  tenant_id: number;
  vendor: string;
  state: SharedBreakerState['state'];
  consecutive_failures: number;
  probe_id: number;
  probe_owner: string | null;
  reason: string | null;
  generation: string | number;
  opened_at_ms: number | null;
  probe_started_at_ms: number | null;
  probe_lease_until_ms: number | null;
}

const ms = (v: number | null): number | null => (v === null ? null : Math.round(v));

function stateOf(r: Row): SharedBreakerState {
  return {
    tenantId: r.tenant_id,
    vendor: r.vendor as BreakerVendor,
    state: r.state,
    consecutiveFailures: r.consecutive_failures,
    openedAt: ms(r.opened_at_ms),
    probeId: r.probe_id,
    probeStartedAt: ms(r.probe_started_at_ms),
    probeOwner: r.probe_owner,
    probeLeaseUntil: ms(r.probe_lease_until_ms),
    reason: r.reason,
    generation: Number(r.generation),
  };
}

const ts = (v: number | null): string | null => (v === null ? null : new Date(v).toISOString());
/** $3..$10 of a write, in the column order of the statements below. */
const valuesOf = (f: SharedBreakerFields): unknown[] => [
  f.state, f.consecutiveFailures, ts(f.openedAt), f.probeId, ts(f.probeStartedAt), f.probeOwner, ts(f.probeLeaseUntil), f.reason,
];

/** Options of {@link createBreakerStateStore}. */
export interface BreakerStateStoreOptions {
  logger: Logger;
  /** Delay before the listening connection is made again, doubling up to 10 s. Default 250 ms. */
  reconnectMs?: number;
}

/**
 * The {@link BreakerStateStore} port on `breaker_state` (migrations/009_breaker_state.sql). An
 * update is one transaction of three statements: the row inserted if missing and locked
 * (`INSERT … ON CONFLICT DO UPDATE` locks it either way), then — only when the step changes it —
 * written with its generation bumped and announced on {@link BREAKER_CHANNEL} in the same
 * statement, so a listener never hears of a write that did not commit. The listener holds one
 * connection of the pool, made again (and a gap reported) whenever it is lost.
 */
export function createBreakerStateStore(pool: pg.Pool, options: BreakerStateStoreOptions): BreakerStateStore {
  const { logger } = options;
  const baseReconnectMs = options.reconnectMs ?? 250;
  return {
    async update(tenantId, vendor, initial, step) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const locked = await client.query<Row>(
          `INSERT INTO breaker_state (tenant_id, vendor, state, consecutive_failures, opened_at, probe_id, probe_started_at, probe_owner, probe_lease_until, reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (tenant_id, vendor) DO UPDATE SET tenant_id = breaker_state.tenant_id
           RETURNING ${COLUMNS}`,
          [tenantId, vendor, ...valuesOf(initial)],
        );
        const current = stateOf(locked.rows[0] as Row);
        const next = step(current);
        if (next === null) {
          await client.query('COMMIT');
          return { state: current, wrote: false };
        }
        const written = await client.query<Row>(
          `WITH u AS (
             UPDATE breaker_state SET state = $3, consecutive_failures = $4, opened_at = $5, probe_id = $6, probe_started_at = $7,
               probe_owner = $8, probe_lease_until = $9, reason = $10, generation = generation + 1, updated_at = now()
             WHERE tenant_id = $1 AND vendor = $2
             RETURNING *
           ), r AS (SELECT ${COLUMNS} FROM u)
           SELECT r.*, pg_notify('${BREAKER_CHANNEL}', row_to_json(r)::text) FROM r`,
          [tenantId, vendor, ...valuesOf(next)],
        );
        await client.query('COMMIT');
        return { state: stateOf(written.rows[0] as Row), wrote: true };
      } catch (error) {
        broken = error as Error;
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release(broken);
      }
    },

    async all() {
      const { rows } = await pool.query<Row>(`SELECT ${COLUMNS} FROM breaker_state ORDER BY tenant_id, vendor`);
      return rows.map(stateOf);
    },

    listen(onChange, onGap) {
      let stopped = false;
      let client: pg.PoolClient | null = null;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let delay = baseReconnectMs;
      let connected!: () => void;
      const first = new Promise<void>((resolve) => (connected = resolve));

      const onNotification = (message: pg.Notification): void => {
        if (message.channel !== BREAKER_CHANNEL || !message.payload) return;
        try {
          onChange(stateOf(JSON.parse(message.payload) as Row));
        } catch (error) {
          logger.warn({ err: error }, 'breaker notification ignored (unreadable)');
        }
      };

      const lost = (error: unknown): void => {
        const c = client;
        client = null;
        if (c) {
          c.removeListener('notification', onNotification);
          c.release(error instanceof Error ? error : new Error('listen connection lost'));
        }
        if (stopped) return;
        logger.warn({ err: error, retryInMs: delay }, 'breaker notifications lost: listening again');
        timer = setTimeout(() => void connect(), delay);
        timer.unref?.();
        delay = Math.min(delay * 2, 10_000);
      };

      const connect = async (): Promise<void> => {
        if (stopped) return;
        let c: pg.PoolClient;
        try {
          c = await pool.connect();
        } catch (error) {
          connected();
          lost(error);
          return;
        }
        if (stopped) {
          c.release();
          return;
        }
        client = c;
        c.on('error', (error) => (client === c ? lost(error) : undefined));
        c.on('notification', onNotification);
        try {
          await c.query(`LISTEN ${BREAKER_CHANNEL}`);
        } catch (error) {
          connected();
          if (client === c) lost(error);
          return;
        }
        delay = baseReconnectMs;
        connected();
        onGap();
      };

      void connect();
      const listener: BreakerStateListener = {
        async close() {
          stopped = true;
          clearTimeout(timer);
          const c = client;
          client = null;
          if (c) {
            c.removeListener('notification', onNotification);
            await c.query(`UNLISTEN ${BREAKER_CHANNEL}`).catch(() => undefined);
            c.release();
          }
        },
      };
      return first.then(() => listener);
    },
  };
}
