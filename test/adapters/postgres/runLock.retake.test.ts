/**
 * The advisory lock's re-take logic (issue 11) on a fake pool: a lost connection is replaced and
 * the lock taken again; taken by another session meanwhile, the lock reports itself lost. Virtual
 * time for the retry delays.
 */
import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { tryAdvisoryLock } from '../../../src/adapters/postgres/runLock.js';

/** A server with advisory locks held by fake sessions, and a pool of fake clients to it. */
function fakeServer() {
  const holders = new Map<string, FakeClient>();
  let refusals = 0;
  const clients: FakeClient[] = [];

  class FakeClient extends EventEmitter {
    dead = false;
    released = false;
    async query(text: string, values: unknown[]): Promise<{ rows: Array<{ ok: boolean }> }> {
      await Promise.resolve();
      if (this.dead) throw new Error('Client has encountered a connection error and is not queryable');
      const key = String(values[0]);
      if (text.includes('pg_try_advisory_lock')) {
        const holder = holders.get(key);
        if (holder && holder !== this) return { rows: [{ ok: false }] };
        holders.set(key, this);
        return { rows: [{ ok: true }] };
      }
      if (text.includes('pg_advisory_unlock') && holders.get(key) === this) holders.delete(key);
      return { rows: [{ ok: true }] };
    }
    release(error?: Error | boolean): void {
      this.released = true;
      if (error) this.dead = true;
    }
    /** pg_terminate_backend: the session's locks go, the client hears of it as an 'error'. */
    terminate(): void {
      this.dead = true;
      for (const [key, holder] of holders) if (holder === this) holders.delete(key);
      this.emit('error', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
    }
  }

  const pool = {
    async connect(): Promise<pg.PoolClient> {
      await Promise.resolve();
      if (refusals > 0) {
        refusals -= 1;
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      }
      const client = new FakeClient();
      clients.push(client);
      return client as unknown as pg.PoolClient;
    },
  };
  /** Another session (another process) taking `key`. */
  const otherSession = new FakeClient();
  return {
    pool,
    holderOf: (key: string) => holders.get(key) ?? null,
    latest: () => clients[clients.length - 1] as FakeClient,
    refuseNext: (n: number) => void (refusals = n),
    takeAsOther: (key: string) => void holders.set(key, otherSession),
    otherSession,
  };
}

const KEY = 'lead-enrich:run:7';

describe('an advisory lock whose connection is lost', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is taken again on a new connection, however long the database refuses connections', async () => {
    const server = fakeServer();
    const lock = await tryAdvisoryLock(server.pool, KEY);
    expect(lock).not.toBeNull();
    const first = server.latest();
    expect(server.holderOf(KEY)).toBe(first);

    server.refuseNext(5); // the server is down for a while: five connection attempts refused
    first.terminate();
    expect(first.released).toBe(true);
    expect(server.holderOf(KEY)).toBeNull();
    await vi.advanceTimersByTimeAsync(60_000);

    const second = server.latest();
    expect(second).not.toBe(first);
    expect(server.holderOf(KEY)).toBe(second);
    expect(lock?.lost.aborted).toBe(false);

    // Lost again, and taken again: it goes on for as long as the lock is held.
    second.terminate();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(server.holderOf(KEY)).toBe(server.latest());
    expect(lock?.lost.aborted).toBe(false);

    await lock?.release();
    expect(server.holderOf(KEY)).toBeNull();
    expect(server.latest().released).toBe(true);
  });

  it('is lost for good when another session took it meanwhile: `lost` aborts, and nothing is taken', async () => {
    const server = fakeServer();
    const lock = await tryAdvisoryLock(server.pool, KEY);
    const first = server.latest();
    server.refuseNext(2);
    first.terminate();
    server.takeAsOther(KEY); // a `run --resume` of another process, while this one's connection is down
    await vi.advanceTimersByTimeAsync(10_000);

    expect(lock?.lost.aborted).toBe(true);
    expect(String(lock?.lost.reason)).toMatch(/taken by another session/);
    expect(server.holderOf(KEY)).toBe(server.otherSession);
    expect(server.latest().released).toBe(true); // the connection that found it taken went back to the pool
    await lock?.release();
    expect(server.holderOf(KEY)).toBe(server.otherSession);
  });

  it('stops trying once released, and takes nothing afterwards', async () => {
    const server = fakeServer();
    const lock = await tryAdvisoryLock(server.pool, KEY);
    server.refuseNext(1_000_000);
    server.latest().terminate();
    await vi.advanceTimersByTimeAsync(5_000);
    await lock?.release();
    server.refuseNext(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.holderOf(KEY)).toBeNull();
    expect(lock?.lost.aborted).toBe(false);
  });

  it('the first take rides out a refused connection too; a lock held elsewhere is refused at once', async () => {
    const server = fakeServer();
    server.refuseNext(3);
    const taking = tryAdvisoryLock(server.pool, KEY);
    await vi.advanceTimersByTimeAsync(10_000);
    const lock = await taking;
    expect(lock).not.toBeNull();
    expect(await tryAdvisoryLock(server.pool, KEY)).toBeNull();
    await lock?.release();
  });
});
