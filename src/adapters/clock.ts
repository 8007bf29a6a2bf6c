import type { Clock } from '../domain/clock.js';

/** The real wall clock. The only place that reads real time for domain logic. */
export const systemClock: Clock = { now: () => Date.now() };
