import { createHash } from 'node:crypto';
import type { AnswerStorePort, AnswerTtlDays } from '../domain/answers.js';
import type { Clock } from '../domain/clock.js';
import type { Logger } from '../domain/logger.js';
import type { BreakerVendor, TenantId } from '../domain/vendor.js';
import type { StepOutcome } from '../machines/enrichment.types.js';

const DAY_MS = 86_400_000;

/** A request as its key sees it: strings trimmed and lower-cased, object keys sorted. */
function normalised(value: unknown): unknown {
  if (typeof value === 'string') return value.trim().toLowerCase();
  if (Array.isArray(value)) return value.map(normalised);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined && v !== null)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, normalised(v)]),
    );
  }
  return value;
}

/** The request's key: SHA-256 of its normalised JSON (the query never stored in clear). */
export function answerKey(query: unknown): string {
  return createHash('sha256').update(JSON.stringify(normalised(query))).digest('hex');
}

/** What a reused answer tells the step: when the vendor gave it. */
export interface Reused {
  fetchedAt: number;
}

/**
 * Paid answers reused within VENDOR_ANSWER_TTL_DAYS (src/domain/answers.ts). `reuseOr` answers a
 * step from the store when it holds an answer to the same request young enough — no call, no
 * rate-limit turn, no budget — and otherwise makes the call and stores its answer when it cost
 * something. A store that fails is logged and the call made: reuse saves money, it never stops a step.
 */
export class AnswerReuse {
  constructor(
    private readonly store: AnswerStorePort,
    private readonly ttlDays: AnswerTtlDays,
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {}

  /** Whether `vendor`'s answers are reused at all. */
  enabled(vendor: BreakerVendor): boolean {
    return (this.ttlDays[vendor] ?? 0) > 0;
  }

  /**
   * @param costOf what a fresh answer cost (stored with it: what a later reuse saves)
   * @param onReuse told of each reuse, with what it saved
   */
  async reuseOr<T>(
    tenantId: TenantId,
    vendor: BreakerVendor,
    endpoint: string,
    query: unknown,
    fresh: () => Promise<StepOutcome<T>>,
    costOf: (value: T) => number,
    onReuse?: (savedUsd: number) => void,
  ): Promise<StepOutcome<T> & { reused?: Reused }> {
    const days = this.ttlDays[vendor] ?? 0;
    if (days <= 0) return fresh();
    const key = answerKey(query);
    const now = this.clock.now();
    let stored = null;
    try {
      stored = await this.store.get(tenantId, vendor, endpoint, key, now - days * DAY_MS);
    } catch (error) {
      this.logger?.warn({ err: error, vendor }, 'stored answers unreadable: the vendor is asked');
    }
    if (stored) {
      onReuse?.(stored.costUsd);
      const at = this.clock.now();
      return { ok: true, value: stored.value as T, at, durationMs: at - now, reused: { fetchedAt: stored.fetchedAt } };
    }
    const outcome = await fresh();
    if (outcome.ok) {
      const costUsd = costOf(outcome.value);
      if (costUsd > 0) {
        void this.store.put(tenantId, vendor, endpoint, key, { value: outcome.value, fetchedAt: outcome.at, costUsd }).catch((error: unknown) => {
          this.logger?.warn({ err: error, vendor }, 'paid answer not stored');
        });
      }
    }
    return outcome;
  }
}
