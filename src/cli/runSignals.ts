/**
 * SIGINT/SIGTERM for `lead-enrich run`, from the first moment of the command to its end, so that a
 * signal works at every point (issue 11, item 3): while the database opens, while the input waits
 * for a FIFO's writer or for stdin, while it is recorded, during the run.
 */
import type { RunHandle } from '../runtime.js';

/** Exit code of an interrupted run: the shell convention for SIGINT (128 + 2). */
export const EXIT_INTERRUPTED = 130;

/** What the signals act on once the run exists. */
export interface SignalledRun {
  handle: RunHandle;
  /** SHUTDOWN_GRACE_MS, for the message. */
  graceMs: number;
}

/** The signal handlers of one `run` command. */
export interface RunSignals {
  /** Aborted by the first signal: whatever waits before the run exists (the input) stops. */
  readonly stop: AbortSignal;
  /** From now on the first signal interrupts `run` (drain, then interrupted) and a second exits. */
  attach(run: SignalledRun): void;
  /** Removes the handlers. */
  dispose(): void;
}

/**
 * Installs the handlers. A signal only asks the run to stop: the first aborts
 * {@link RunSignals.stop} and, once a run is attached, interrupts it (the run drains and ends
 * `interrupted`). A second asks it to stop now (in-flight work aborted, no grace) and exits with 130
 * once the run has recorded itself interrupted, at most 1 s later; with no run yet, or at a third
 * signal, it exits at once.
 */
export function watchRunSignals(out: NodeJS.WritableStream = process.stderr, exit: (code: number) => never = (code) => process.exit(code)): RunSignals {
  const stop = new AbortController();
  let run: SignalledRun | null = null;
  let count = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    count += 1;
    if (count === 1) {
      if (run) {
        out.write(`\nlead-enrich: ${signal}: stopping intake; companies in flight get ${run.graceMs} ms to finish (again to force)\n`);
        run.handle.interrupt();
      } else out.write(`\nlead-enrich: ${signal}: stopping before the run has started (again to force)\n`);
      stop.abort();
      return;
    }
    const runId = run?.handle.progress.runId ?? null;
    out.write(`lead-enrich: ${signal} again: exiting now${runId === null ? '' : `; resume with: lead-enrich run --resume ${runId}`}\n`);
    if (count > 2 || runId === null || !run) exit(EXIT_INTERRUPTED);
    // The run is asked to stop at once; it records itself interrupted rather than being left
    // `running`. What the sink still held may be lost: a resume redoes those companies.
    const leave = (): never => exit(EXIT_INTERRUPTED);
    setTimeout(leave, 1000).unref();
    run.handle.interrupt({ now: true });
    void run.handle.done.then(leave, leave);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stop: stop.signal,
    attach: (attached) => {
      run = attached;
      // A signal that came before the run existed still stops it.
      if (stop.signal.aborted) attached.handle.interrupt();
    },
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
