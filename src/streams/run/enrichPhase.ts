import type { Config } from '../../config/config.js';
import { logContext, type Clock, type Company, type EnrichmentOutput, type Logger, type RunQueue, type StageEvent } from '../../domain/index.js';
import type { Observability } from '../observability.js';
import { enrichCompany, type EnrichCompanyDeps, type EnrichmentPorts } from '../enrichCompany.js';
import type { GuardedCaller } from '../guard.types.js';
import { pulledMerge } from '../pulledMerge.js';
import { CompanyUsage } from './usage.js';

/** What the enrichment phase of a run needs. */
export interface EnrichPhaseDeps {
  config: Config;
  clock: Clock;
  /** Where the run's pending companies are read from. */
  queue: Pick<RunQueue, 'pending'>;
  obs: Observability;
  guard: GuardedCaller;
  ports: EnrichmentPorts;
  logger: Logger;
  inspect?: EnrichCompanyDeps['inspect'];
}

/** One company done, for progress reporting. */
export interface CompanyDone {
  companyId: number;
  degraded: boolean;
  reasons: string[];
}

/** Options of {@link enrichPhase}. */
export interface EnrichPhaseOptions {
  runId: number;
  concurrency: number;
  /** Fires on drain: no further company is taken. */
  stopIntake: AbortSignal;
  /** Fires on abort: companies in flight end at once and get no row (a resume redoes them). */
  abort: AbortSignal;
  onCompany?: (done: CompanyDone) => void;
}

/**
 * Streams the run's pending companies (those without a result row) through one enrichment
 * actor each at `concurrency`, and hands every result to the sink as one group (one transaction):
 * stage events (recordStage, each with its own time), vendor usage (bumpVendor) and the company's row. Resolves with the number of companies processed.
 * Vendor failures never reject; only the database (reading the queue) or the sink can.
 */
export function enrichPhase(deps: EnrichPhaseDeps, options: EnrichPhaseOptions): Promise<number> {
  const { runId } = options;
  let processed = 0;
  const one = async (company: Company): Promise<void> => {
    const usage = new CompanyUsage(deps.config.quotas.prices);
    const stages: StageEvent[] = [];
    const startedAt = deps.clock.now();
    let output: EnrichmentOutput;
    try {
      output = await enrichCompany(company, {
        config: deps.config,
        guard: usage.wrap(deps.guard),
        ports: deps.ports,
        clock: deps.clock,
        signal: options.abort,
        ...(deps.inspect ? { inspect: deps.inspect } : {}),
        onStageEvent: (event) => stages.push(event),
        onUsage: (u) => usage.addTokens(u.vendor, u.usage.totalTokens, u.costUsd),
      });
    } catch (error) {
      if (options.abort.aborted) return; // no row: `run --resume` processes it again
      throw error;
    }
    const finishedAt = deps.clock.now();
    // The company's stage events, usage and row go to the sink as one group: one transaction, so
    // after a crash either all of them are in the database or none (and a resume redoes the company).
    const events = deps.obs.group();
    for (const e of stages) void events.recordStage(runId, e);
    for (const [vendor, t] of usage.byVendor) void events.bumpVendor(runId, company.tenantId, vendor, { ...t, companyId: company.companyId });
    await events.commit({ type: 'company.finished', runId, tenantId: company.tenantId, output, startedAt, finishedAt, costUsd: usage.totalCostUsd() });
    processed += 1;
    if (deps.logger.isLevelEnabled('debug')) {
      deps.logger.child(logContext({ companyId: company.companyId })).debug({ reasons: output.degradedReasons, fallbacks: output.fallbacks }, 'company enriched');
    }
    options.onCompany?.({ companyId: company.companyId, degraded: output.reasons.length > 0, reasons: output.reasons });
  };

  return new Promise<number>((resolve, reject) => {
    pulledMerge(deps.queue.pending(runId), one, { concurrency: options.concurrency, stopIntake: options.stopIntake }).subscribe({
      error: reject,
      complete: () => resolve(processed),
    });
  });
}
