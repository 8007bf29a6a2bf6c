import type { Config } from '../../config/config.js';
import { logContext, type Clock, type Company, type EnrichmentOutput, type Logger, type StageEvent } from '../../domain/index.js';
import { enrichCompany, type EnrichCompanyDeps, type EnrichmentPorts } from '../enrichCompany.js';
import type { GuardedCaller } from '../guard.types.js';
import type { Observability } from '../observability.js';
import type { AnswerReuse } from '../answers.js';
import { budgetedGuard, type RunBudgets } from './budget.js';
import { CompanyUsage } from './usage.js';

/** What {@link enrichOne} needs. */
export interface EnrichOneDeps {
  config: Config;
  clock: Clock;
  obs: Observability;
  guard: GuardedCaller;
  ports: EnrichmentPorts;
  logger: Logger;
  inspect?: EnrichCompanyDeps['inspect'];
  /** Stored paid answers (VENDOR_ANSWER_TTL_DAYS). Default none. */
  answers?: AnswerReuse;
  /** The runs' budgets (RUN_BUDGET_USD): paid calls are refused once a run's is spent. Default none. */
  budgets?: RunBudgets;
}

/**
 * Enriches one company of a run and hands everything it produced to the sink as one group (one
 * transaction): its stage events (each with its own time), its vendor usage and its result. Resolves
 * with the output once the group is admitted (not yet committed), or null when `abort` fired first
 * (the company then has no row, so it is done again). Vendor failures never reject; only the sink can.
 */
export async function enrichOne(deps: EnrichOneDeps, runId: number, company: Company, abort: AbortSignal): Promise<EnrichmentOutput | null> {
  const { budgets } = deps;
  const prices = deps.config.quotas.prices;
  const usage = new CompanyUsage(prices, budgets ? (usd) => budgets.spend(runId, usd) : undefined);
  const stages: StageEvent[] = [];
  const startedAt = deps.clock.now();
  let output: EnrichmentOutput;
  try {
    output = await enrichCompany(company, {
      config: deps.config,
      guard: usage.wrap(budgets ? budgetedGuard(deps.guard, budgets, runId, prices) : deps.guard),
      ports: deps.ports,
      clock: deps.clock,
      signal: abort,
      ...(deps.inspect ? { inspect: deps.inspect } : {}),
      onStageEvent: (event) => stages.push(event),
      onUsage: (u) => usage.addTokens(u.vendor, u.usage.totalTokens, u.costUsd),
      ...(deps.answers ? { answers: { reuse: deps.answers, prices, onReuse: (vendor, savedUsd) => usage.addReuse(vendor, savedUsd) } } : {}),
    });
  } catch (error) {
    if (abort.aborted) return null;
    throw error;
  }
  const finishedAt = deps.clock.now();
  // One group: after a crash either all of it is in the database or none (and the company is done
  // again); and a company's usage and stages count only with the result that is recorded for it.
  const events = deps.obs.group();
  for (const e of stages) void events.recordStage(runId, e);
  for (const [vendor, t] of usage.byVendor) void events.bumpVendor(runId, company.tenantId, vendor, { ...t, companyId: company.companyId });
  await events.commit({ type: 'company.finished', runId, tenantId: company.tenantId, output, startedAt, finishedAt, costUsd: usage.totalCostUsd() });
  if (deps.logger.isLevelEnabled('debug')) {
    deps.logger.child(logContext({ runId, companyId: company.companyId })).debug({ reasons: output.degradedReasons, fallbacks: output.fallbacks }, 'company enriched');
  }
  return output;
}
