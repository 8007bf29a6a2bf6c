import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { createSink, type Sink } from '../../src/streams/sink.js';
import { createPgBatchWriter } from '../../src/adapters/postgres/writer.js';

/**
 * A pool on the run's test database and a sink writing through it (small batches, short flush),
 * both closed after the enclosing suite. Call it in a `describe` body.
 */
export function sinkOnTestDatabase(): { pool: pg.Pool; sink: Sink } {
  const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
  const sink = createSink({ writer: createPgBatchWriter(pool), config: { batchSize: 50, flushMs: 5, maxBuffer: 1000 } });
  afterAll(async () => {
    await sink.close();
    await pool.end();
  });
  return { pool, sink };
}
