import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createProgressReporter,
  etaSeconds,
  formatDuration,
  ratePerSecond,
  renderProgressBar,
  renderProgressLine,
  type ProgressState,
} from '../../src/cli/progress.js';

const base: ProgressState = { done: 120, total: 480, degraded: 7, openBreakers: 1, startedAt: 1_000_000, now: 1_010_000 };

describe('progress rendering', () => {
  it('computes the rate and the ETA from the elapsed time', () => {
    expect(ratePerSecond(base)).toBe(12);
    expect(etaSeconds(base)).toBe(30);
    expect(etaSeconds({ ...base, total: null })).toBeNull();
    expect(etaSeconds({ ...base, done: 0 })).toBeNull();
    expect(ratePerSecond({ ...base, now: base.startedAt })).toBe(0);
  });

  it('counts only this session in the rate of a resumed run, and shows the export instead of an ETA', () => {
    // Resumed with 100 of 480 already done: 20 more in 10 s is 2/s, and 360 left take 180 s.
    const resumed = { ...base, doneAtStart: 100 };
    expect(ratePerSecond(resumed)).toBe(2);
    expect(etaSeconds(resumed)).toBe(180);
    expect(ratePerSecond({ ...base, doneAtStart: 200 })).toBe(0); // never negative
    const exporting = renderProgressLine({ ...base, done: 480, phase: 'exporting', exported: 37 });
    expect(exporting).toContain('exporting to Odoo: 37 written');
    expect(exporting).not.toContain('ETA');
    expect(renderProgressBar({ ...base, phase: 'finalising' }, 200)).toMatch(/finalising$/);
  });

  it('formats durations', () => {
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3720)).toBe('1h02m');
    expect(formatDuration(null)).toBe('--');
  });

  it('draws a bar with done/total, percent, degraded, open breakers, rate and ETA', () => {
    const line = renderProgressBar(base, 200);
    expect(line).toMatch(/^\[#{6}-{18}\] 120\/480 25% \| 7 degraded \| 1 open breaker \| 12\.0\/s \| ETA 30s$/);
    expect(renderProgressBar({ ...base, openBreakers: 2 }, 200)).toContain('2 open breakers');
  });

  it('shows ?/no bar while the total is unknown', () => {
    const line = renderProgressBar({ ...base, total: null }, 200);
    expect(line).toMatch(/^120\/\? companies \| 7 degraded/);
    expect(line).toContain('ETA --');
    expect(renderProgressLine({ ...base, total: null })).toMatch(/^progress: 120\/\? companies, 7 degraded, 1 open breaker, 12\.0\/s, ETA --$/);
  });

  it('never exceeds the terminal width and keeps the bar proportional', () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.nat(10_000), fc.integer({ min: 10, max: 300 }), (a, b, columns) => {
        const total = Math.max(a, b);
        const s = { ...base, done: Math.min(a, b), total };
        const line = renderProgressBar(s, columns);
        expect(line.length).toBeLessThanOrEqual(columns - 1);
        const full = renderProgressBar(s, 1000);
        const hashes = /^\[(#*)/.exec(full)?.[1]?.length ?? -1;
        expect(hashes).toBe(Math.round((total === 0 ? 1 : s.done / total) * 24));
      }),
    );
  });
});

describe('progress reporter', () => {
  beforeEach(() => vi.useFakeTimers({ now: 5_000_000 }));
  afterEach(() => vi.useRealTimers());

  const sink = (isTTY: boolean) => {
    const chunks: string[] = [];
    return { chunks, out: { isTTY, columns: 120, write: (c: string) => chunks.push(c) } };
  };
  const clock = { now: () => Date.now() };

  it('on a terminal redraws one line in place and ends it on stop', () => {
    const { chunks, out } = sink(true);
    const p = createProgressReporter({ out, clock, scheduler: { setInterval, clearInterval: (h) => clearInterval(h as never) }, redrawMs: 100 });
    p.update({ total: 10 });
    vi.advanceTimersByTime(1_000);
    p.update({ done: 4, degraded: 1 });
    vi.advanceTimersByTime(1_000);
    expect(chunks.length).toBe(20);
    expect(chunks.every((c) => c.startsWith('\r') && c.endsWith('\u001b[K') && !c.includes('\n'))).toBe(true);
    expect(chunks.at(-1)).toContain('4/10 40% | 1 degraded | 0 open breakers | 2.0/s | ETA 3s');
    p.stop();
    p.stop();
    expect(chunks.at(-1)).toBe('\n');
    const count = chunks.length;
    vi.advanceTimersByTime(10_000);
    expect(chunks.length).toBe(count);
  });

  it('when not a terminal writes a plain line every 5 s by default', () => {
    const { chunks, out } = sink(false);
    const p = createProgressReporter({ out, clock });
    p.update({ total: null, done: 50 });
    vi.advanceTimersByTime(4_999);
    expect(chunks).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(chunks).toEqual(['progress: 50/? companies, 0 degraded, 0 open breakers, 10.0/s, ETA --\n']);
    p.update({ done: 100, total: 100, openBreakers: 1 });
    vi.advanceTimersByTime(5_000);
    expect(chunks[1]).toBe('progress: 100/100 companies (100%), 0 degraded, 1 open breaker, 10.0/s, ETA 0s\n');
    p.stop();
    expect(chunks).toHaveLength(3);
    expect(chunks.every((c) => !c.includes('\r') && !c.includes('\u001b'))).toBe(true);
  });
});
