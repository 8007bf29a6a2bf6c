/**
 * The CLI's log file (issue 11, item 9): `<data dir>/lead-enrich.log` holds run ids, tenants,
 * companies and vendor errors, and is readable by its owner only.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliLogger } from '../../src/cli/context.js';
import { configFrom } from '../../src/config/index.js';

const mode = (file: string): number => statSync(file).mode & 0o777;

describe('lead-enrich.log', () => {
  let dir: string;
  let wasTTY: boolean | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lead-enrich-log-'));
    wasTTY = process.stderr.isTTY;
    process.stderr.isTTY = true; // on a terminal the CLI logs to the file
  });
  afterEach(async () => {
    process.stderr.isTTY = wasTTY as boolean;
    await rm(dir, { recursive: true, force: true });
  });

  async function logOnce(): Promise<string> {
    const { logger, logFile } = cliLogger(configFrom({ LEAD_ENRICH_DATA_DIR: dir }));
    logger.info({ runId: 1 }, 'hello');
    const file = logFile ?? '';
    // The destination opens the file asynchronously: poll for the line, generously.
    for (const until = Date.now() + 10_000; !(existsSync(file) && readFileSync(file, 'utf8').includes('hello')) && Date.now() < until; ) {
      logger.flush();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return file;
  }

  it('is created with mode 0600', async () => {
    const file = await logOnce();
    expect(file).toBe(path.join(dir, 'lead-enrich.log'));
    expect(mode(file)).toBe(0o600);
  });

  it('is tightened to 0600 when an earlier version left it readable by all', async () => {
    const file = path.join(dir, 'lead-enrich.log');
    writeFileSync(file, '{}\n', { mode: 0o644 });
    expect(mode(file)).toBe(0o644);
    await logOnce();
    expect(mode(file)).toBe(0o600);
  });
});
