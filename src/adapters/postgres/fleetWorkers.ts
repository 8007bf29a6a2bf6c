import type { FleetRegistry } from '../../domain/index.js';
import type { Queryable } from './reconnect.js';

/** The {@link FleetRegistry} port on `fleet_workers` (migrations/008_fleet.sql). */
export function createFleetRegistry(db: Pick<Queryable, 'query'>): FleetRegistry {
  return {
    async heartbeat(m) {
      await db.query(
        `INSERT INTO fleet_workers (worker_id, host, pid, kind, run_id, concurrency, in_flight, done)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (worker_id) DO UPDATE SET in_flight = EXCLUDED.in_flight, done = EXCLUDED.done, run_id = EXCLUDED.run_id,
           last_seen_at = now(), stopped_at = NULL`,
        [m.workerId, m.host, m.pid, m.kind, m.runId, m.concurrency, m.inFlight, m.done],
      );
    },
    async leave(workerId) {
      await db.query(`UPDATE fleet_workers SET stopped_at = now(), in_flight = 0, last_seen_at = now() WHERE worker_id = $1`, [workerId]);
    },
    async seen(withinS) {
      const { rows } = await db.query<{
        worker_id: string; host: string; pid: number; kind: 'run' | 'worker'; run_id: string | null; concurrency: number; in_flight: number; done: string;
        started_at: Date; last_seen_at: Date; stopped_at: Date | null;
      }>(`SELECT * FROM fleet_workers WHERE last_seen_at > now() - make_interval(secs => $1) ORDER BY last_seen_at DESC`, [withinS]);
      return rows.map((r) => ({
        workerId: r.worker_id, host: r.host, pid: r.pid, kind: r.kind, runId: r.run_id === null ? null : Number(r.run_id), concurrency: r.concurrency,
        inFlight: r.in_flight, done: Number(r.done), startedAt: r.started_at, lastSeenAt: r.last_seen_at, stoppedAt: r.stopped_at,
      }));
    },
  };
}
