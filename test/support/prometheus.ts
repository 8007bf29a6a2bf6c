import parsePrometheusTextFormat from 'parse-prometheus-text-format';

/** Prometheus text parsed by a parser of its own (not prom-client's), for checks by name and labels. */
export interface Scrape {
  families: ReturnType<typeof parsePrometheusTextFormat>;
  /** The family's type (COUNTER, GAUGE, HISTOGRAM...), or undefined when absent. */
  type(name: string): string | undefined;
  /** The sample whose labels include `labels`; undefined when none. Throws when several match. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Every sample of the family with its labels. */
  samples(name: string): { labels: Record<string, string>; value: number }[];
  /** A histogram's count and buckets (cumulative, by `le`) for `labels`. */
  histogram(name: string, labels?: Record<string, string>): { count: number; sum: number; buckets: Record<string, number> } | undefined;
}

export function scrape(text: string): Scrape {
  const families = parsePrometheusTextFormat(text);
  // The parser keeps one series per histogram family (it drops every label but `le`): parsed again
  // with histograms untyped, each histogram's _bucket, _sum and _count lines are families of their
  // own (one per run of lines: a series' lines come together, so a name can come back).
  const flat = parsePrometheusTextFormat(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped'));
  const family = (name: string) => families.find((f) => f.name === name);
  const matching = (name: string, labels: Record<string, string>) =>
    (family(name)?.metrics ?? []).filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return {
    families,
    type: (name) => family(name)?.type,
    value(name, labels = {}) {
      const found = matching(name, labels);
      if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)}: ${found.length} samples`);
      return found[0]?.value === undefined ? undefined : Number(found[0].value);
    },
    samples: (name) => (family(name)?.metrics ?? []).map((m) => ({ labels: m.labels ?? {}, value: Number(m.value) })),
    histogram(name, labels = {}) {
      const series = (suffix: string) =>
        flat.filter((f) => f.name === `${name}_${suffix}`).flatMap((f) => f.metrics).filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
      const count = series('count');
      if (count.length !== 1) return undefined;
      const buckets = Object.fromEntries(series('bucket').map((m) => [m.labels?.le ?? '', Number(m.value)]));
      return { count: Number(count[0]!.value), sum: Number(series('sum')[0]?.value), buckets };
    },
  };
}
