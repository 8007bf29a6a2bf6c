import type { Clock } from '../domain/clock.js';

/** What the progress display shows; counters are cumulative for the run. */
export interface ProgressState {
  /** Companies finished (a row written), degraded or not. */
  done: number;
  /** Companies in the run; null while the input is still streaming and the count is unknown. */
  total: number | null;
  /** Finished companies with at least one degradation reason. */
  degraded: number;
  /** (tenant, vendor) breakers open or half-open right now. */
  openBreakers: number;
  /** Companies already done when this session started (a resume): not counted in the rate. Default 0. */
  doneAtStart?: number;
  /** The run's phase; in `exporting` the line shows the export's progress instead of the rate and ETA. */
  phase?: string;
  /** Export outcomes recorded so far in this session. */
  exported?: number;
  /** When the run started, epoch milliseconds. */
  startedAt: number;
  /** The time to render for, epoch milliseconds. */
  now: number;
}

/**
 * Average throughput of this session since its start, in companies per second (0 before any time has
 * passed); companies done by an earlier session of a resumed run do not count.
 */
export function ratePerSecond(s: ProgressState): number {
  const seconds = (s.now - s.startedAt) / 1000;
  return seconds > 0 ? Math.max(0, s.done - (s.doneAtStart ?? 0)) / seconds : 0;
}

/** Seconds left at the average rate; null when the total is unknown or nothing has finished yet. */
export function etaSeconds(s: ProgressState): number | null {
  const rate = ratePerSecond(s);
  if (s.total === null || rate === 0) return null;
  return Math.max(0, s.total - s.done) / rate;
}

/** `42s`, `3m05s`, `1h02m`; `--` for null. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function counts(s: ProgressState): string {
  const breakers = `${s.openBreakers} open breaker${s.openBreakers === 1 ? '' : 's'}`;
  if (s.phase === 'exporting') return `${s.degraded} degraded | ${breakers} | exporting to Odoo: ${s.exported ?? 0} written`;
  if (s.phase === 'finalising') return `${s.degraded} degraded | ${breakers} | finalising`;
  const rate = ratePerSecond(s);
  return `${s.degraded} degraded | ${breakers} | ${rate.toFixed(1)}/s | ETA ${formatDuration(etaSeconds(s))}`;
}

/**
 * The terminal line: a bar when the total is known, then done/total, percent, degraded,
 * open breakers, rate and ETA, cut to `columns - 1` characters so it never wraps.
 * @param columns terminal width in characters. Default 80.
 */
export function renderProgressBar(s: ProgressState, columns = 80): string {
  let head: string;
  if (s.total === null) head = `${s.done}/? companies`;
  else {
    const fraction = s.total === 0 ? 1 : Math.min(1, s.done / s.total);
    const width = 24;
    const filled = Math.round(fraction * width);
    head = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${s.done}/${s.total} ${Math.floor(fraction * 100)}%`;
  }
  const line = `${head} | ${counts(s)}`;
  return line.length > columns - 1 ? line.slice(0, Math.max(0, columns - 1)) : line;
}

/** The log line written instead of a bar when the output is not a terminal. */
export function renderProgressLine(s: ProgressState): string {
  const total = s.total === null ? '?' : String(s.total);
  const percent = s.total ? ` (${Math.floor((Math.min(s.done, s.total) / s.total) * 100)}%)` : '';
  return `progress: ${s.done}/${total} companies${percent}, ${counts(s).replaceAll(' | ', ', ')}`;
}

/** Where progress goes; `process.stderr` fits. */
export interface ProgressOutput {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Timer functions, injectable for tests (defaults: the global setInterval/clearInterval). */
export interface IntervalScheduler {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface ProgressReporterOptions {
  out: ProgressOutput;
  clock: Clock;
  scheduler?: IntervalScheduler;
  /** Draw a bar in place (default: `out.isTTY`). */
  tty?: boolean;
  /** Bar redraw period on a terminal, in milliseconds. Default 250. */
  redrawMs?: number;
  /** Log line period when not a terminal, in milliseconds. Default 5000. */
  logEveryMs?: number;
}

/** A running progress display; `update` only records; drawing happens on the timer. */
export interface ProgressReporter {
  update(patch: Partial<Omit<ProgressState, 'startedAt' | 'now'>>): void;
  /** Draws one last time, ends the bar's line and stops the timer. Idempotent. */
  stop(): void;
}

const defaultScheduler: IntervalScheduler = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

/**
 * Starts the progress display: on a terminal a single line redrawn in place (`\r` + clear to end
 * of line) every `redrawMs`; otherwise a plain log line every `logEveryMs`.
 */
export function createProgressReporter(options: ProgressReporterOptions): ProgressReporter {
  const { out, clock } = options;
  const scheduler = options.scheduler ?? defaultScheduler;
  const tty = options.tty ?? out.isTTY === true;
  const counters: Omit<ProgressState, 'startedAt' | 'now'> = { done: 0, total: null, degraded: 0, openBreakers: 0 };
  const startedAt = clock.now();
  let stopped = false;
  const state = (): ProgressState => ({ ...counters, startedAt, now: clock.now() });
  const draw = (): void => {
    if (tty) out.write(`\r${renderProgressBar(state(), out.columns ?? 80)}\u001b[K`);
    else out.write(`${renderProgressLine(state())}\n`);
  };
  const handle = scheduler.setInterval(draw, tty ? (options.redrawMs ?? 250) : (options.logEveryMs ?? 5000));
  return {
    update(patch) {
      Object.assign(counters, patch);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      scheduler.clearInterval(handle);
      draw();
      if (tty) out.write('\n');
    },
  };
}
