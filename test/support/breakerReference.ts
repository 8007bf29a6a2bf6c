import type { ErrorKind } from '../../src/domain/errors.js';

/**
 * An independent reference of DESIGN.md "Circuit breakers", written from the text and not from
 * the machine: what a breaker should answer and how many requests a guarded call should make.
 */
const RETRYABLE = new Set<ErrorKind>(['rate_limited', 'server', 'timeout', 'network']);
const NEUTRAL = new Set<ErrorKind>(['bad_request', 'not_found']);

export type RefState = 'closed' | 'open' | 'halfOpen';
export type RefAdmission = { kind: 'admitted' } | { kind: 'probe'; id: number } | { kind: 'refused' };

export class ReferenceBreaker {
  state: RefState = 'closed';
  failures = 0;
  openedAt: number | null = null;
  private probe: { id: number; startedAt: number } | null = null;
  private probes = 0;

  constructor(
    readonly threshold: number,
    readonly coolOffMs: number,
    readonly leaseMs: number,
  ) {}

  admit(now: number): RefAdmission {
    if (this.state === 'closed') return { kind: 'admitted' };
    if (this.state === 'open' && now - this.openedAt! < this.coolOffMs) return { kind: 'refused' };
    if (this.state === 'halfOpen' && now - this.probe!.startedAt < this.leaseMs) return { kind: 'refused' };
    this.state = 'halfOpen';
    this.probe = { id: ++this.probes, startedAt: now };
    return { kind: 'probe', id: this.probe.id };
  }

  /** The final outcome of one guarded call: 'ok', the last error kind, or 'abandoned'. */
  outcome(admission: RefAdmission, result: 'ok' | 'abandoned' | ErrorKind, now: number): void {
    if (admission.kind === 'refused') return;
    if (admission.kind === 'probe') {
      if (this.state !== 'halfOpen' || this.probe?.id !== admission.id) return; // stale
      if (result === 'abandoned') {
        this.state = 'open';
      } else if (result === 'ok' || NEUTRAL.has(result)) {
        this.state = 'closed';
        this.failures = 0;
      } else {
        this.state = 'open';
        this.openedAt = now;
      }
      return;
    }
    if (this.state !== 'closed' || result === 'abandoned') return;
    if (result === 'ok') this.failures = 0;
    else if (!NEUTRAL.has(result)) {
      this.failures += 1;
      if (this.failures >= this.threshold) {
        this.state = 'open';
        this.openedAt = now;
      }
    }
  }

  /** Requests an admitted call makes when every attempt fails with `kind` (breaker stays closed meanwhile). */
  static attemptsFor(admission: RefAdmission, kind: ErrorKind | 'ok', maxAttempts: number): number {
    if (admission.kind === 'refused') return 0;
    if (kind === 'ok' || admission.kind === 'probe' || !RETRYABLE.has(kind)) return 1;
    return maxAttempts;
  }
}
