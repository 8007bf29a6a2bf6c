/**
 * The one retry policy for a lost database connection (issue 11): which errors it retries, how
 * long, and the reconnecting pool's statements and transactions — on fakes with virtual time, and
 * a transaction whose backend is terminated mid-way on a real PostgreSQL; and the database's pool,
 * whose clients never throw a lost connection at the process.
 */
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createLogger } from '../../../src/adapters/logger.js';
import { openDatabase } from '../../../src/adapters/postgres/database.js';
import { isConnectionError, reconnecting, retryOnDisconnect, transaction } from '../../../src/adapters/postgres/reconnect.js';

const coded = (code: string, message = code): Error => Object.assign(new Error(message), { code });

describe('isConnectionError', () => {
  it.each([
    ['a terminated backend (57P01)', coded('57P01', 'terminating connection due to administrator command')],
    ['a server starting up (57P03)', coded('57P03', 'the database system is starting up')],
    ['a connection failure (08006)', coded('08006')],
    ['a refused connection', coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a reset socket', coded('ECONNRESET', 'read ECONNRESET')],
    ['the driver seeing its socket end', new Error('Connection terminated unexpectedly')],
    ['the pool timing out a connect', new Error('timeout exceeded when trying to connect')],
  ])('is true for %s', (_what, error) => {
    expect(isConnectionError(error)).toBe(true);
  });

  it.each([
    ['a unique violation', coded('23505')],
    ['a missing table', coded('42P01')],
    ['a missing database', coded('3D000')],
    ['a refused password', coded('28P01')],
    ['a client closed on purpose', new Error('Connection terminated')],
    ['any other error', new Error('boom')],
    ['a non-error', 'ECONNREFUSED'],
  ])('is false for %s', (_what, error) => {
    expect(isConnectionError(error)).toBe(false);
  });
});

describe('retryOnDisconnect', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const failing = (failures: Error[], value = 'ok') => {
    let calls = 0;
    const work = vi.fn(async () => {
      calls += 1;
      const error = failures[calls - 1];
      if (error) throw error;
      return value;
    });
    return work;
  };

  it('runs the work again after a lost connection, with growing delays, and resolves with its value', async () => {
    vi.useFakeTimers();
    const warn = vi.fn();
    const work = failing([coded('ECONNREFUSED'), coded('57P03'), coded('57P01')]);
    const result = retryOnDisconnect(work, { logger: { warn } as never, random: () => 0.5 });
    await vi.advanceTimersByTimeAsync(99);
    expect(work).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1 + 200 + 400);
    await expect(result).resolves.toBe('ok');
    expect(work).toHaveBeenCalledTimes(4);
    expect(warn.mock.calls.map((c) => (c[0] as { delayMs: number }).delayMs)).toEqual([100, 200, 400]);
  });

  it('throws any other error at once', async () => {
    const work = failing([coded('23505', 'duplicate key')]);
    await expect(retryOnDisconnect(work)).rejects.toThrow('duplicate key');
    expect(work).toHaveBeenCalledTimes(1);
  });

  it('gives up with the last connection error once giveUpAfterMs has passed since the first failure', async () => {
    vi.useFakeTimers();
    const work = vi.fn(async () => {
      throw coded('ECONNREFUSED', `refused at ${Date.now()}`);
    });
    const result = retryOnDisconnect(work, { giveUpAfterMs: 10_000, maxDelayMs: 1000 });
    const settled = expect(result).rejects.toThrow(/refused/);
    await vi.advanceTimersByTimeAsync(10_000);
    await settled;
    expect(work.mock.calls.length).toBeGreaterThan(5);
    expect(work.mock.calls.length).toBeLessThan(20);
  });

  it('stops when its signal aborts', async () => {
    vi.useFakeTimers();
    const stop = new AbortController();
    const work = vi.fn(async () => {
      throw coded('ECONNREFUSED');
    });
    const result = retryOnDisconnect(work, { signal: stop.signal });
    const settled = expect(result).rejects.toThrow(/stopped/);
    await vi.advanceTimersByTimeAsync(1000);
    stop.abort(new Error('stopped'));
    await settled;
  });
});

describe('the reconnecting pool on a real PostgreSQL', () => {
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 3 });
    pool.on('error', () => undefined); // the terminated clients
    await pool.query('CREATE TABLE IF NOT EXISTS reconnect_test (id int PRIMARY KEY, attempt int NOT NULL)');
  });
  afterAll(async () => {
    await pool.query('DROP TABLE IF EXISTS reconnect_test');
    await pool.end();
  });

  it('runs a transaction cut by a terminated backend again, whole: its effects once', async () => {
    let attempts = 0;
    const db = reconnecting(pool, { baseDelayMs: 5 });
    await transaction(db, async (client) => {
      attempts += 1;
      await client.query('INSERT INTO reconnect_test (id, attempt) VALUES (1, $1)', [attempts]);
      if (attempts === 1) await client.query('SELECT pg_terminate_backend(pg_backend_pid())');
    });
    expect(attempts).toBe(2);
    const { rows } = await pool.query('SELECT id, attempt FROM reconnect_test');
    expect(rows).toEqual([{ id: 1, attempt: 2 }]); // the first attempt was rolled back with its session
  });

  it('on a plain pool the same transaction fails with the connection error (nothing retries it)', async () => {
    await expect(
      transaction(pool, async (client) => {
        await client.query('INSERT INTO reconnect_test (id, attempt) VALUES (2, 1)');
        await client.query('SELECT pg_terminate_backend(pg_backend_pid())');
      }),
    ).rejects.toMatchObject({ code: '57P01' });
    expect((await pool.query('SELECT count(*)::int AS n FROM reconnect_test WHERE id = 2')).rows[0]?.n).toBe(0);
  });
});

describe("the database's pool", () => {
  it('a client checked out by anyone whose backend is terminated is logged, not thrown at the process', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const db = await openDatabase({ database: { url: inject('databaseUrl'), dataDir: '.' } }, { migrate: false, logger: createLogger({ destination }) });
    try {
      const client = await db.pool.connect(); // held, idle, with no listener of its own (a library user's)
      const ended = new Promise((resolve) => client.once('end', resolve));
      await db.pool.query('SELECT pg_terminate_backend($1)', [(client as unknown as { processID: number }).processID]);
      await ended;
      client.release(true);
      expect(lines.some((l) => l.includes('database connection lost') && l.includes('57P01'))).toBe(true);
      expect((await db.pool.query<{ ok: number }>('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    } finally {
      await db.close();
    }
  });
});
