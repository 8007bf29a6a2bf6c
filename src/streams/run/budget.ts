import { BudgetExhaustedError } from '../../domain/errors.js';
import type { Logger } from '../../domain/logger.js';
import { isPaid, type VendorPrices } from '../../domain/prices.js';
import type { RunSpend, RunSpendPort } from '../../domain/quotas.js';
import type { BreakerVendor } from '../../domain/vendor.js';
import type { GuardedCaller } from '../guard.types.js';

/**
 * The runs' budgets as this process sees them (RUN_BUDGET_USD): each run's state is read once,
 * then kept up to date from the totals every spend returns (the fleet's, not only this process's).
 * A run is exhausted once its spend reaches its budget. Calls already in flight when it is reached
 * still finish: a run may overshoot by what its companies in flight were spending.
 */
export class RunBudgets {
  private readonly runs = new Map<number, { state: RunSpend; ready: Promise<void> }>();

  constructor(
    private readonly port: RunSpendPort,
    private readonly logger?: Logger,
  ) {}

  private entry(runId: number) {
    let e = this.runs.get(runId);
    if (!e) {
      const state: RunSpend = { budgetUsd: null, spentUsd: 0 };
      const ready = this.port.state(runId).then(
        (s) => {
          state.budgetUsd = s.budgetUsd;
          state.spentUsd = Math.max(state.spentUsd, s.spentUsd);
        },
        (error: unknown) => {
          // Unknown for now: no cap, and asked again on the next call.
          this.runs.delete(runId);
          this.logger?.warn({ err: error, runId }, 'run budget unreadable: calls go on');
        },
      );
      e = { state, ready };
      this.runs.set(runId, e);
    }
    return e;
  }

  /** The run's budget and spend now (read from the database on first use). */
  async state(runId: number): Promise<RunSpend> {
    const e = this.entry(runId);
    await e.ready;
    return { ...e.state };
  }

  /** Whether the run has spent its budget. */
  async exhausted(runId: number): Promise<RunSpend | null> {
    const s = await this.state(runId);
    return s.budgetUsd !== null && s.spentUsd >= s.budgetUsd ? s : null;
  }

  /** Adds a paid call's cost to the run's spend (here at once, in the database in the background). */
  spend(runId: number, usd: number): void {
    if (!(usd > 0)) return;
    const e = this.entry(runId);
    e.state.spentUsd += usd;
    void this.port.spend(runId, usd).then(
      (s) => {
        e.state.spentUsd = Math.max(e.state.spentUsd, s.spentUsd);
        e.state.budgetUsd = s.budgetUsd;
      },
      (error: unknown) => this.logger?.warn({ err: error, runId }, 'run spend not recorded'),
    );
  }
}

/**
 * A guard that refuses a paid call (a vendor with a price, OpenAI always) once the run's budget is
 * spent: BudgetExhaustedError, no request made. Free calls (the crawl, Odoo) always go through.
 */
export function budgetedGuard(inner: GuardedCaller, budgets: RunBudgets, runId: number, prices: VendorPrices): GuardedCaller {
  return {
    registry: inner.registry,
    call: (tenantId, vendor, fn, options) => {
      if (!isPaid(vendor, prices)) return inner.call(tenantId, vendor, fn, options);
      return budgets.exhausted(runId).then((spent) => {
        if (spent) throw new BudgetExhaustedError(runId, vendor as BreakerVendor, spent.spentUsd, spent.budgetUsd ?? 0);
        return inner.call(tenantId, vendor, fn, options);
      });
    },
  };
}
