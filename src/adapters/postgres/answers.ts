import type { AnswerStorePort } from '../../domain/answers.js';
import { pgJson } from './pgJson.js';
import type { Queryable } from './reconnect.js';

/** The {@link AnswerStorePort} on `vendor_answers` (migrations/010_vendor_quotas.sql). */
export function createAnswerStore(db: Pick<Queryable, 'query'>): AnswerStorePort {
  return {
    async get(tenantId, vendor, endpoint, key, notBefore) {
      const { rows } = await db.query<{ answer: unknown; fetched_at: Date; cost_usd: string }>(
        `SELECT answer, fetched_at, cost_usd FROM vendor_answers
          WHERE tenant_id = $1 AND vendor = $2 AND endpoint = $3 AND query_key = $4 AND fetched_at >= to_timestamp($5 / 1000.0)`,
        [tenantId, vendor, endpoint, key, notBefore],
      );
      const r = rows[0];
      return r ? { value: r.answer, fetchedAt: r.fetched_at.getTime(), costUsd: Number(r.cost_usd) } : null;
    },
    async put(tenantId, vendor, endpoint, key, answer) {
      await db.query(
        `INSERT INTO vendor_answers (tenant_id, vendor, endpoint, query_key, answer, cost_usd, fetched_at)
         VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7 / 1000.0))
         ON CONFLICT (tenant_id, vendor, endpoint, query_key) DO UPDATE SET answer = EXCLUDED.answer, cost_usd = EXCLUDED.cost_usd, fetched_at = EXCLUDED.fetched_at`,
        [tenantId, vendor, endpoint, key, pgJson(answer.value), answer.costUsd, answer.fetchedAt],
      );
    },
  };
}
