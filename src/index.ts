/**
 * lead-enrich as a library, for runner processes (the package's `main`): build a runtime from a
 * configuration, enrich one company, run a batch (start, progress, interrupt, await), observe
 * breakers and run events, close. Everything else under src/ is internal and may change.
 *
 * ```ts
 * import { createRuntime, loadConfig } from 'lead-enrich';
 * const runtime = await createRuntime(loadConfig());
 * try {
 *   const handle = runtime.run({ tenantId: 1, companies });
 *   const { runId, status } = await handle.done;
 * } finally {
 *   await runtime.close();
 * }
 * ```
 *
 * See the README's "Library API" section for a complete example.
 * @packageDocumentation
 */

// The runtime: composition root of the CLI and of this API.
export { createRuntime } from './runtime.js';
export type { Runtime, RuntimeOptions } from './runtime.js';

// The operators' window (`lead-enrich serve`) and a process's /metrics (`worker --metrics-port`).
export { serveWindow, serveAccessProblem, startMetricsServer } from './runtime.js';
export type { ServeHandle, ServeOptions } from './runtime.js';

// Configuration: one loader, validated once.
export { loadConfig, loadConfigWith, configFrom, describeConfig, ConfigError, isConfigError, maskSecret, maskUrl } from './config/index.js';
export type { Config, ConfigProblem, RetryConfig, BreakerConfig, VendorEndpoint } from './config/index.js';

// Runs: request, live progress, handle, outcome, report.
export type { RunRequest, RunProgress, RunHandle, RunResult, VerifyDeferredResult } from './runtime.js';
export { RunRequestError, isRunRequestError, InputError, isInputError } from './domain/input.js';
export type { InputFormat, MalformedRow } from './domain/input.js';
export type { RunOutcome } from './machines/run.machine.js';
export type { RunReport } from './adapters/postgres/report.js';
export type { Tenant, RunParams, RunRow } from './domain/store.js';

// What a company's enrichment produces and says about itself.
export type { Company, Contact, EmailRecord, EmailStatus, CompanyFacts, SourceName } from './domain/company.js';
export type { EnrichmentOutput, StageTiming, CompanyRunStatus, ExportStatus, RunEvent, BreakerTransition, BreakerStateName } from './domain/events.js';
export type { ReasonCode, StepName } from './domain/reasons.js';
export type { ProvenanceEntry } from './domain/provenance.js';
export type { StageEvent, StageEvent as EnrichmentStageEvent } from './domain/events.js';

// Vendors, the error taxonomy and its guards.
export { BREAKER_VENDORS, isBreakerVendor } from './domain/vendor.js';
export type { BreakerVendor, VendorName, TenantId } from './domain/vendor.js';
export { VendorError, isVendorError, CircuitOpenError, isCircuitOpenError, ERROR_KINDS, isRetryableKind, countsAgainstBreaker } from './domain/errors.js';
export type { ErrorKind, VendorErrorInit } from './domain/errors.js';

// Breakers as listed by the runtime; injectable time.
export type { BreakerInfo, GuardEvent } from './runtime.js';
export type { Clock } from './domain/clock.js';

// Watching the machines: the Stately inspector (what `run --inspect` uses).
export { createInspector } from './adapters/inspect.js';
export type { InspectMode, CreateInspectorOptions, RunInspector } from './adapters/inspect.js';
