import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import type { Config } from '../config/index.js';
import { createLogger } from '../adapters/logger.js';

const USAGE_ERROR_BRAND = Symbol.for('lead-enrich.UsageError');

/** Bad usage of the command line (exit code 2). */
export class UsageError extends Error {
  readonly [USAGE_ERROR_BRAND] = true;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function isUsageError(value: unknown): value is UsageError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[USAGE_ERROR_BRAND] === true;
}

/** Parses a non-negative integer option or throws a UsageError naming it. */
export function intOption(name: string, value: string | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`${name} expects an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/**
 * The CLI's logger. On a terminal, logs go to `<data dir>/lead-enrich.log` (mode 0600: run ids,
 * tenants, companies and vendor errors are nobody else's business; an older, looser file is
 * tightened) so that they do not tear the progress bar; otherwise to stderr (stdout carries the
 * summary).
 */
export function cliLogger(config: Config): { logger: pino.Logger; logFile: string | null } {
  if (process.stderr.isTTY) {
    mkdirSync(config.database.dataDir, { recursive: true });
    const logFile = join(config.database.dataDir, 'lead-enrich.log');
    if (existsSync(logFile)) chmodSync(logFile, 0o600);
    const destination = pino.destination({ dest: logFile, append: true, sync: false, mkdir: true, mode: 0o600 });
    return { logger: createLogger({ level: config.logLevel, destination }), logFile };
  }
  return { logger: createLogger({ level: config.logLevel, destination: process.stderr }), logFile: null };
}
