import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../../domain/index.js';

/** Whether a process with this pid exists (signal 0 probes without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits for `pid` to exit, polling every 20 ms; after `timeoutMs` sends SIGQUIT (immediate shutdown)
 * and waits as long again.
 */
export async function waitForExit(pid: number, timeoutMs: number, logger?: Logger): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(20);
  if (!isAlive(pid)) return;
  logger?.warn({ pid }, 'PostgreSQL did not stop in time; sending SIGQUIT');
  try {
    process.kill(pid, 'SIGQUIT');
  } catch {
    return;
  }
  const hard = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < hard) await sleep(20);
}

/**
 * Deals with the `postmaster.pid` a previous process left behind when it died without stopping its
 * server: a live postmaster of this cluster (an orphan) is shut down; a pid file whose process is
 * gone, or belongs to something else, is removed.
 */
export async function stopStalePostmaster(clusterDir: string, logger?: Logger): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && isPostmasterOf(pid, clusterDir)) {
    logger?.warn({ pid, clusterDir }, 'stopping an orphaned embedded PostgreSQL from an earlier process');
    process.kill(pid, 'SIGINT');
    await waitForExit(pid, 15_000, logger);
    return;
  }
  logger?.warn({ pid, clusterDir }, 'removing a stale postmaster.pid');
  await rm(pidFile, { force: true });
}

function isPostmasterOf(pid: number, clusterDir: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.some((arg) => arg.endsWith('postgres')) && cmdline.includes(clusterDir);
  } catch {
    // No /proc (macOS): trust the pid file, as PostgreSQL itself does.
    return true;
  }
}

/**
 * Polls until the server at `url` answers a query, the child exits (or could not be started at
 * all: its 'error' event), or `timeoutMs` passes.
 */
export async function waitUntilAccepting(url: string, child: ChildProcess, timeoutMs: number): Promise<'accepting' | 'exited' | 'timed_out'> {
  let exited = child.exitCode !== null || child.signalCode !== null;
  const onEnd = (): void => {
    exited = true;
  };
  child.once('exit', onEnd);
  child.once('error', onEnd);
  const deadline = Date.now() + timeoutMs;
  try {
    while (!exited && Date.now() < deadline) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return 'accepting';
      } catch {
        await client.end().catch(() => undefined);
        await sleep(25);
      }
    }
    return exited ? 'exited' : 'timed_out';
  } finally {
    child.off('exit', onEnd);
    child.off('error', onEnd);
  }
}
