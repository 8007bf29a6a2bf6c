import type { RunEvent } from './events.js';

/** What happened to one batch of run events. */
export type BatchOutcome = 'applied' | 'duplicate' | 'rejected';

/**
 * Writes one batch of run events in one transaction: the port the persistence sink writes through
 * (src/adapters/postgres/writer.ts implements it). Must be idempotent per `batchId`: a batch that
 * was committed is never applied twice.
 */
export type BatchWriter = (batchId: string, events: readonly RunEvent[]) => Promise<BatchOutcome>;
