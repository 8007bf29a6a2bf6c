import { afterAll, beforeAll, beforeEach } from 'vitest';
import { configFrom, type Config } from '../../src/config/index.js';
import { isVendorError, type VendorError } from '../../src/domain/errors.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/index.js';

/** A simulator started once per file, reset before each test, and the config pointing at it. */
export interface SimFixture {
  sim: Simulator;
  config: Config;
}

/** Starts a simulator for the calling test file (beforeAll/afterAll) and resets it before each test. */
export function useSimulator(options: SimulatorOptions = {}, extra: Record<string, string> = {}): SimFixture {
  const fixture = {} as SimFixture;
  beforeAll(async () => {
    fixture.sim = await startSimulator({ seed: 7, ...options });
    fixture.config = configFrom({ ...fixture.sim.overrides, ...extra });
  });
  beforeEach(() => fixture.sim.reset());
  afterAll(async () => fixture.sim?.close());
  return fixture;
}

/** A per-attempt signal, as the guarded call gives each attempt (milliseconds). */
export const attempt = (ms = 5_000): AbortSignal => AbortSignal.timeout(ms);

/** The VendorError a promise rejects with; fails the test when it resolves or throws anything else. */
export async function vendorErrorOf(promise: Promise<unknown>): Promise<VendorError> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected a VendorError, got ${JSON.stringify(outcome.value)}`);
  if (!isVendorError(outcome.error)) throw new Error(`expected a VendorError, got ${String(outcome.error)}`);
  return outcome.error;
}
