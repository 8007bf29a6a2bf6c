import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { createRuntime, type Runtime } from '../../runtime.js';
import { cliLogger, intOption } from '../context.js';
import { EXIT_INTERRUPTED } from '../runSignals.js';

/** The options of `lead-enrich worker` as commander gives them. */
interface WorkerOptions {
  concurrency?: string;
  untilIdle?: boolean;
  metricsPort?: string;
  metricsHost?: string;
}

/** Validated worker options (exit 2 on misuse, before any work). */
export interface WorkerPlan {
  concurrency: number | undefined;
  untilIdle: boolean;
  metricsPort: number | null;
}

export function planWorker(options: WorkerOptions): WorkerPlan {
  return {
    concurrency: intOption('--concurrency', options.concurrency, 1, 4096),
    untilIdle: options.untilIdle === true,
    metricsPort: intOption('--metrics-port', options.metricsPort, 0, 65535) ?? null,
  };
}

/**
 * Registers `lead-enrich worker`: a member of the fleet (DESIGN.md "Scale-out") working the jobs
 * of every run and tenant on the database. SIGINT/SIGTERM drain it as they drain `run` (no job is
 * taken any more, jobs in flight get SHUTDOWN_GRACE_MS, the rest go back to the queue) and it exits
 * 0; a second signal aborts what is in flight (its jobs go back to the queue) and exits 130.
 */
export function registerWorker(program: Command, setExit: (code: number) => void, extras: { startMetrics?: (runtime: Runtime, port: number) => Promise<{ url: string; close(): Promise<void> }> } = {}): void {
  program
    .command('worker')
    .description('work the queued companies and exports of every run and tenant, as one member of the fleet')
    .option('--concurrency <n>', 'companies enriched at once (default RUN_CONCURRENCY)')
    .option('--until-idle', 'exit 0 once no job of any run is waiting, active or due for a retry')
    .option('--metrics-port <port>', 'serve Prometheus /metrics and /healthz on 127.0.0.1:<port>')
    .action(async (options: WorkerOptions) => {
      const config = loadConfig();
      const plan = planWorker(options);
      const { logger } = cliLogger(config);
      let signals = 0;
      let handle: ReturnType<Runtime['work']> | null = null;
      const onSignal = (signal: NodeJS.Signals): void => {
        signals += 1;
        if (signals === 1) {
          process.stderr.write(`lead-enrich worker: ${signal}: no new job; jobs in flight get ${config.shutdownGraceMs} ms to finish (again to force)\n`);
          handle?.stop();
        } else {
          process.stderr.write(`lead-enrich worker: ${signal} again: jobs in flight go back to the queue\n`);
          handle?.stop({ now: true });
          setExit(EXIT_INTERRUPTED);
        }
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const runtime = await createRuntime(config, { logger });
      let metrics: { url: string; close(): Promise<void> } | null = null;
      try {
        if (plan.metricsPort !== null && extras.startMetrics) {
          metrics = await extras.startMetrics(runtime, plan.metricsPort);
          process.stderr.write(`lead-enrich worker: metrics on ${metrics.url}/metrics\n`);
        }
        handle = runtime.work({ ...(plan.concurrency !== undefined ? { concurrency: plan.concurrency } : {}), untilIdle: plan.untilIdle });
        if (signals > 0) handle.stop();
        const { jobs } = await handle.done;
        process.stderr.write(`lead-enrich worker: stopped after ${jobs} jobs\n`);
      } finally {
        await metrics?.close();
        await runtime.close();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
