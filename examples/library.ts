import { pathToFileURL } from 'node:url';
import { createRuntime, isConfigError, loadConfig, type Company, type Config, type RunEvent, type RunProgress, type RunReport, type RunResult } from 'lead-enrich';

/** What {@link enrichBatch} saw. */
export interface BatchOutcome {
  /** The first company enriched on its own, before the run (nothing persisted). */
  preview: { companyId: number; reasons: string[]; contacts: number } | null;
  result: RunResult;
  progress: RunProgress;
  report: RunReport | null;
  /** Breaker transitions seen live, e.g. `apify_linkedin closed→open`. */
  transitions: string[];
  /** Run events by type, as they were handed to the database sink. */
  events: Partial<Record<RunEvent['type'], number>>;
}

/**
 * Enriches one company on its own, then runs a tenant's batch: persisted to PostgreSQL, exported
 * to the tenant's Odoo, interrupted (drained, flushed, resumable) when `signal` aborts.
 */
export async function enrichBatch(config: Config, tenantId: number, companies: Company[], signal?: AbortSignal): Promise<BatchOutcome> {
  const runtime = await createRuntime(config);
  const transitions: string[] = [];
  const events: BatchOutcome['events'] = {};
  const watching = [
    runtime.transitions$.subscribe((t) => transitions.push(`${t.vendor} ${t.from}→${t.to}`)),
    runtime.events$.subscribe((e) => (events[e.type] = (events[e.type] ?? 0) + 1)),
  ];
  try {
    const first = companies[0];
    const output = first ? await runtime.enrich(first) : null;
    const preview = output && { companyId: output.companyId, reasons: output.reasons, contacts: output.contacts.length };

    const handle = runtime.run({ tenantId, companies });
    const interrupt = (): void => handle.interrupt();
    if (signal?.aborted) interrupt();
    else signal?.addEventListener('abort', interrupt, { once: true });
    const result = await handle.done; // { runId, status: 'completed' | 'interrupted' | 'failed', error }
    signal?.removeEventListener('abort', interrupt);

    const report = result.runId === null ? null : await runtime.report(result.runId);
    return { preview, result, progress: { ...handle.progress }, report, transitions, events };
  } finally {
    watching.forEach((s) => s.unsubscribe());
    await runtime.close(); // flushes the sink, closes the database
  }
}

// A runner process: configuration from the environment (exit 2 when invalid), SIGTERM drains the run.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const stop = new AbortController();
    process.once('SIGTERM', () => stop.abort());
    const companies: Company[] = [{ tenantId: 1, companyId: 1, name: 'Acme GmbH', domain: 'acme.example' }];
    const { result, report } = await enrichBatch(loadConfig(), 1, companies, stop.signal);
    console.log(`run ${result.runId} ${result.status}: ${report?.run.counts.degraded ?? 0} of ${report?.run.counts.done ?? 0} degraded`);
    process.exitCode = result.status === 'failed' ? 1 : 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = isConfigError(error) ? 2 : 1;
  }
}
