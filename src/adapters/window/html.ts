import type {
  BreakerView,
  CompanyDetails,
  CompanyListItem,
  Page,
  QueueDepth,
  RunDetails,
  RunListItem,
  WorkerView,
} from '../../domain/index.js';

/**
 * The pages of the operators' window, server-rendered. Every interpolated value is escaped by
 * {@link h} unless it is already {@link Safe} (markup built by `h` itself): a company called
 * `<script>` is text, whatever it came from (an input file, a vendor, a site).
 */

/** Markup that is already escaped. */
export class Safe {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** HTML-escapes text (element content and quoted attribute values alike). */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}

type Value = Safe | string | number | boolean | null | undefined | readonly Value[];

function render(v: Value): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Safe) return v.html;
  if (Array.isArray(v)) return v.map(render).join('');
  return esc(String(v));
}

/** The tagged template of every page: values are escaped, arrays joined, Safe kept. */
export function h(strings: TemplateStringsArray, ...values: Value[]): Safe {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Safe(out);
}

/** A link's query string from `params` (empty values left out), URL-encoded. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

const iso = (d: Date | null | undefined): string => (d ? d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—');
const pct = (n: number, of: number): string => (of === 0 ? '—' : `${((100 * n) / of).toFixed(1)} %`);
const usd = (n: number): string => `$${n.toFixed(4)}`;
const ms = (n: number): string => `${n.toFixed(n < 10 ? 1 : 0)} ms`;

/** The page around every view. */
export function layout(title: string, active: 'runs' | 'breakers' | 'queue' | null, body: Safe): string {
  const tab = (name: 'runs' | 'breakers' | 'queue', label: string): Safe => h`<a href="/${name}"${active === name ? new Safe(' aria-current="page"') : ''}>${label}</a>`;
  return `<!doctype html>${h`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · lead-enrich</title><link rel="stylesheet" href="/assets/window.css"><script src="/assets/window.js" defer></script></head>
<body><header><strong>lead-enrich</strong> <nav>${tab('runs', 'Runs')} ${tab('breakers', 'Breakers')} ${tab('queue', 'Queue')}</nav></header>
<main><h1>${title}</h1>${body}</main></body></html>`.html}`;
}

/** A list's pager, keeping its filters. */
function pager<T>(p: Page<T>, path: string, params: Record<string, string | number | undefined>): Safe {
  return h`<nav class="pager">${p.page > 1 ? h`<a rel="prev" href="${path}${qs({ ...params, page: p.page - 1 })}">← newer</a>` : ''}
<span>page ${p.page}</span>${p.hasMore ? h`<a rel="next" href="${path}${qs({ ...params, page: p.page + 1 })}">older →</a>` : ''}</nav>`;
}

function progress(r: RunListItem): Safe {
  const { done, total } = r.counts;
  const share = total === 0 ? 0 : Math.min(1, done / total);
  return h`<span class="progress" title="${done} of ${total}"><svg width="80" height="8" role="img" aria-label="${done} of ${total}"><rect width="80" height="8" fill="#e5e7eb"/><rect width="${(80 * share).toFixed(1)}" height="8" fill="#2563eb"/></svg> ${done}/${total}</span>`;
}

const statusBadge = (s: string): Safe => h`<span class="badge s-${s}">${s}</span>`;

/** The runs list: newest first, filtered by tenant and status. */
export function runsPage(p: Page<RunListItem>, filter: { tenant?: number; status?: string }): string {
  const statuses = ['', 'running', 'completed', 'interrupted', 'failed'];
  const body = h`<form class="filters" method="get" action="/runs">
<label>tenant <input name="tenant" inputmode="numeric" value="${filter.tenant ?? ''}" size="6"></label>
<label>status <select name="status">${statuses.map((s) => h`<option value="${s}"${filter.status === s ? new Safe(' selected') : ''}>${s || 'any'}</option>`)}</select></label>
<button type="submit">filter</button></form>
<table id="runs"><thead><tr><th>run</th><th>tenant</th><th>status</th><th>started</th><th>finished</th><th>progress</th><th>degraded</th><th>cost</th></tr></thead><tbody>
${p.items.map((r) => h`<tr data-run="${r.runId}"><td><a href="/runs/${r.runId}">${r.runId}</a></td><td>${r.tenantId}${r.tenantName ? h` <span class="dim">${r.tenantName}</span>` : ''}</td>
<td>${statusBadge(r.status)}${r.status === 'running' ? h` <span class="dim">${r.phase}</span>` : ''}</td><td>${iso(r.startedAt)}</td><td>${iso(r.finishedAt)}</td>
<td>${progress(r)}</td><td class="num">${pct(r.counts.degraded, r.counts.done)}</td><td class="num">${usd(r.costUsd)}</td></tr>`)}
${p.items.length === 0 ? h`<tr><td colspan="8" class="dim">no run${filter.tenant !== undefined || filter.status ? ' matches these filters' : ' yet'}</td></tr>` : ''}
</tbody></table>${pager(p, '/runs', { tenant: filter.tenant, status: filter.status })}`;
  return layout('Runs', 'runs', body);
}

/** The reasons histogram as inline SVG: one bar (`g.bar`, with data-reason and data-count) per reason. */
export function reasonsChart(reasons: RunDetails['reasons'], runId: number): Safe {
  if (reasons.length === 0) return h`<p class="dim">no degradation reason recorded</p>`;
  const max = Math.max(...reasons.map((r) => r.companies));
  const rowH = 22;
  const labelW = 230;
  const barW = 420;
  const height = reasons.length * rowH + 4;
  return h`<svg id="reasons-chart" class="chart" width="${labelW + barW + 60}" height="${height}" role="img" aria-label="companies per degradation reason">
${reasons.map((r, i) => {
    const w = Math.max(1, Math.round((barW * r.companies) / max));
    const y = i * rowH + 2;
    return h`<g class="bar" data-reason="${r.reason}" data-count="${r.companies}"><a href="/runs/${runId}${qs({ reason: r.reason })}#companies">
<text x="${labelW - 6}" y="${y + 15}" text-anchor="end" font-size="12" fill="#111827">${r.reason}</text>
<rect x="${labelW}" y="${y}" width="${w}" height="${rowH - 6}" fill="#f59e0b"><title>${r.reason}: ${r.companies}</title></rect>
<text x="${labelW + w + 6}" y="${y + 15}" font-size="12" fill="#374151">${r.companies}</text></a></g>`;
  })}</svg>`;
}

function companiesTable(runId: number, p: Page<CompanyListItem>, reason: string | undefined, reasons: string[]): Safe {
  return h`<section id="companies"><h2>Companies</h2>
<form class="filters" method="get" action="/runs/${runId}#companies"><label>reason <select name="reason"><option value="">any</option>
${reasons.map((r) => h`<option value="${r}"${r === reason ? new Safe(' selected') : ''}>${r}</option>`)}</select></label> <button type="submit">filter</button></form>
<table><thead><tr><th>company</th><th>name</th><th>domain</th><th>status</th><th>reasons</th><th>export</th></tr></thead><tbody>
${p.items.map((c) => h`<tr data-company="${c.companyId}"><td><a href="/runs/${runId}/companies/${c.companyId}">${c.companyId}</a></td><td class="name">${c.name ?? ''}</td><td>${c.domain ?? ''}</td>
<td>${statusBadge(c.status)}</td><td>${c.reasons.map((r) => h`<code>${r}</code> `)}</td><td>${c.exportStatus ?? 'pending'}</td></tr>`)}
${p.items.length === 0 ? h`<tr><td colspan="6" class="dim">no company${reason ? ' with this reason' : ' with a result yet'}</td></tr>` : ''}
</tbody></table>${pager(p, `/runs/${runId}`, { reason })}</section>`;
}

/** One run: its numbers, the reasons chart, stages, vendors, exports, breaker transitions, companies. */
export function runPage(r: RunDetails, companies: Page<CompanyListItem>, reason: string | undefined): string {
  const body = h`<dl class="facts">
<dt>tenant</dt><dd>${r.tenantId}${r.tenantName ? ` (${r.tenantName})` : ''}</dd><dt>status</dt><dd>${statusBadge(r.status)} <span class="dim">${r.phase}</span></dd>
<dt>started</dt><dd>${iso(r.startedAt)}</dd><dt>finished</dt><dd>${iso(r.finishedAt)}</dd>
<dt>progress</dt><dd>${progress(r)}</dd><dt>degraded</dt><dd>${r.counts.degraded} (${pct(r.counts.degraded, r.counts.done)})</dd>
<dt>failed</dt><dd>${r.counts.failed}</dd><dt>cost</dt><dd>${usd(r.costUsd)}</dd>
${r.odooExportDisabled ? h`<dt>Odoo export</dt><dd>disabled: ${r.odooExportDisabledReason ?? ''}</dd>` : ''}
${r.rejectedEvents > 0 ? h`<dt>rejected events</dt><dd class="warn">${r.rejectedEvents}</dd>` : ''}</dl>
<section><h2>Degradation reasons</h2>${reasonsChart(r.reasons, r.runId)}</section>
<div class="cols"><section><h2>Stages</h2><table id="stages"><thead><tr><th>stage</th><th>n</th><th>p50</th><th>p95</th><th>max</th></tr></thead><tbody>
${r.stages.map((s) => h`<tr><td>${s.stage}</td><td class="num">${s.n}</td><td class="num">${ms(s.p50)}</td><td class="num">${ms(s.p95)}</td><td class="num">${ms(s.maxMs)}</td></tr>`)}
${r.stages.length === 0 ? h`<tr><td colspan="5" class="dim">computed when the run is finalised</td></tr>` : ''}</tbody></table></section>
<section><h2>Exports</h2><table id="exports"><thead><tr><th>outcome</th><th>companies</th></tr></thead><tbody>
${r.exports.map((e) => h`<tr><td>${e.exportStatus}</td><td class="num">${e.companies}</td></tr>`)}</tbody></table></section></div>
<section><h2>Vendors</h2><table id="vendors"><thead><tr><th>vendor</th><th>calls</th><th>errors</th><th>retries</th><th>tokens</th><th>cost</th></tr></thead><tbody>
${r.vendors.map((v) => h`<tr data-vendor="${v.vendor}"><td>${v.vendor}</td><td class="num">${v.calls}</td><td class="num">${v.errors}</td><td class="num">${v.retries}</td><td class="num">${v.tokens}</td><td class="num">${usd(v.costUsd)}</td></tr>`)}
</tbody></table></section>
<section><h2>Breaker transitions</h2><table id="transitions"><thead><tr><th>at</th><th>vendor</th><th>from</th><th>to</th><th>reason</th></tr></thead><tbody>
${r.breakerTransitions.map((t) => h`<tr><td>${iso(t.at)}</td><td>${t.vendor}</td><td>${t.from}</td><td>${statusBadge(t.to)}</td><td>${t.reason}</td></tr>`)}
${r.breakerTransitions.length === 0 ? h`<tr><td colspan="5" class="dim">none during this run</td></tr>` : ''}</tbody></table></section>
${companiesTable(r.runId, companies, reason, r.reasons.map((x) => x.reason))}`;
  return layout(`Run ${r.runId}`, 'runs', body);
}

/** One company of one run: its reasons, the provenance of every field, its facts and its contacts. */
export function companyPage(c: CompanyDetails): string {
  const fact = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  const body = h`<p><a href="/runs/${c.runId}#companies">← run ${c.runId}</a></p>
<dl class="facts"><dt>name</dt><dd class="name">${c.name ?? ''}</dd><dt>domain</dt><dd>${c.domain ?? ''}</dd><dt>status</dt><dd>${statusBadge(c.status)}</dd>
<dt>reasons</dt><dd>${c.reasons.length ? c.reasons.map((r) => h`<code>${r}</code> `) : 'none'}</dd><dt>fallbacks</dt><dd>${c.fallbacks.join(', ') || 'none'}</dd>
<dt>export</dt><dd>${c.exportStatus ?? 'pending'}${c.exportPartnerId !== null ? ` (partner ${c.exportPartnerId})` : ''}${c.exportDetail ? h` <span class="dim">${c.exportDetail}</span>` : ''}</dd>
<dt>enriched</dt><dd>${iso(c.startedAt)} → ${iso(c.finishedAt)}</dd></dl>
<section><h2>Provenance</h2><table id="provenance"><thead><tr><th>field</th><th>step</th><th>source</th><th>at</th></tr></thead><tbody>
${c.provenance.map((p) => h`<tr><td><code>${p.field}</code></td><td>${p.step}</td><td>${p.source}</td><td>${p.at}</td></tr>`)}
${c.provenance.length === 0 ? h`<tr><td colspan="4" class="dim">no field written</td></tr>` : ''}</tbody></table></section>
<section><h2>Facts</h2><table id="facts"><tbody>${Object.entries(c.facts).map(([k, v]) => h`<tr><th>${k}</th><td>${fact(v)}</td></tr>`)}</tbody></table></section>
<section><h2>Contacts</h2><table id="contacts"><thead><tr><th>name</th><th>title</th><th>e-mail</th><th>e-mail status</th><th>source</th><th>LinkedIn</th></tr></thead><tbody>
${c.contacts.map((x) => h`<tr><td>${x.fullName ?? ''}</td><td>${x.title ?? ''}</td><td>${x.email ?? ''}</td><td>${statusBadge(x.emailStatus)}${x.emailSubStatus ? h` <span class="dim">${x.emailSubStatus}</span>` : ''}</td><td>${x.source}</td><td>${x.linkedinUrl ?? ''}</td></tr>`)}
${c.contacts.length === 0 ? h`<tr><td colspan="6" class="dim">no contact</td></tr>` : ''}</tbody></table></section>
<section><h2>Timings</h2><table id="timings"><tbody>${c.timings.map((t) => h`<tr><td>${t.stage}</td><td class="num">${ms(t.durationMs)}</td></tr>`)}</tbody></table></section>`;
  return layout(`Company ${c.companyId} in run ${c.runId}`, 'runs', body);
}

/** When an open breaker's next probe may go: its last opening plus the cool-off. */
function nextProbe(b: BreakerView, coolOffS: number, now: number): string {
  if (b.state === 'halfOpen') return 'probe under way';
  if (b.state === 'closed') return '—';
  const at = (b.openedAt ?? b.since).getTime() + coolOffS * 1000;
  return at <= now ? `due (since ${iso(new Date(at))}): the next call probes` : iso(new Date(at));
}

/** The rows of the breakers table (also what the page's script fetches every few seconds). */
export function breakerRows(breakers: readonly BreakerView[], coolOffS: number, now: number): string {
  if (breakers.length === 0) return h`<tr><td colspan="6" class="dim">no breaker transition recorded: every breaker is closed</td></tr>`.html;
  return h`${breakers.map((b) => h`<tr data-tenant="${b.tenantId}" data-vendor="${b.vendor}" data-state="${b.state}"><td>${b.tenantId}</td><td>${b.vendor}</td><td>${statusBadge(b.state)}</td>
<td>${iso(b.since)} <span class="dim">${b.reason}</span></td><td>${nextProbe(b, coolOffS, now)}</td><td>${b.runId !== null ? h`<a href="/runs/${b.runId}">${b.runId}</a>` : '—'}</td></tr>`)}`.html;
}

/** Every (tenant, vendor) breaker of the fleet, refreshed in place by /assets/window.js. */
export function breakersPage(breakers: readonly BreakerView[], coolOffS: number, now: number): string {
  const body = h`<p class="dim">As recorded in breaker_transitions by every process of the fleet; refreshed every few seconds (<span id="refreshed">${iso(new Date(now))}</span>).
An open breaker's next probe: its last opening plus CB_COOL_OFF_S as this server has it (${coolOffS} s); the first call after that probes.</p>
<table id="breakers-table"><thead><tr><th>tenant</th><th>vendor</th><th>state</th><th>since</th><th>next probe</th><th>run</th></tr></thead>
<tbody id="breakers" data-refresh="/breakers/rows">${new Safe(breakerRows(breakers, coolOffS, now))}</tbody></table>`;
  return layout('Breakers', 'breakers', body);
}

/** The queue: jobs per run and state, and the workers seen lately. */
export function queuePage(depth: readonly QueueDepth[], workers: readonly WorkerView[], withinS: number): string {
  const body = h`<section><h2>Jobs per run</h2><table id="queue"><thead><tr><th>run</th><th>queue</th><th>waiting</th><th>active</th><th>retry</th><th>failed</th><th>completed</th></tr></thead><tbody>
${depth.map((d) => h`<tr data-run="${d.runId}" data-queue="${d.queue}"><td><a href="/runs/${d.runId}">${d.runId}</a></td><td>${d.queue}</td><td class="num">${d.waiting}</td><td class="num">${d.active}</td><td class="num">${d.retry}</td><td class="num">${d.failed}</td><td class="num">${d.completed}</td></tr>`)}
${depth.length === 0 ? h`<tr><td colspan="7" class="dim">no queued job</td></tr>` : ''}</tbody></table></section>
<section><h2>Workers seen in the last ${withinS} s</h2><table id="workers"><thead><tr><th>worker</th><th>kind</th><th>host</th><th>pid</th><th>run</th><th>concurrency</th><th>in flight</th><th>jobs done</th><th>started</th><th>last seen</th><th>stopped</th></tr></thead><tbody>
${workers.map((w) => h`<tr><td><code>${w.workerId.slice(0, 8)}</code></td><td>${w.kind}</td><td>${w.host}</td><td class="num">${w.pid}</td><td>${w.runId ?? '—'}</td><td class="num">${w.concurrency}</td><td class="num">${w.inFlight}</td><td class="num">${w.done}</td><td>${iso(w.startedAt)}</td><td>${iso(w.lastSeenAt)}</td><td>${iso(w.stoppedAt)}</td></tr>`)}
${workers.length === 0 ? h`<tr><td colspan="11" class="dim">no worker seen</td></tr>` : ''}</tbody></table></section>`;
  return layout('Queue', 'queue', body);
}

/** An error page (400, 404): the message is escaped like everything else. */
export function errorPage(status: number, message: string): string {
  return layout(status === 404 ? 'Not found' : status === 400 ? 'Bad request' : 'Error', null, h`<p class="error">${message}</p><p><a href="/runs">runs</a></p>`);
}

/** The stylesheet, served as /assets/window.css (no inline style: the CSP allows none). */
export const WINDOW_CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#111827;background:#fafafa}
header{display:flex;gap:1.5rem;align-items:center;padding:.6rem 1rem;background:#111827;color:#f9fafb}
header a{color:#d1d5db;margin-right:1rem;text-decoration:none}header a[aria-current]{color:#fff;text-decoration:underline}
main{padding:1rem 1.5rem;max-width:1200px}h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.2rem 0 .5rem}
table{border-collapse:collapse;background:#fff;margin-bottom:.5rem}th,td{border-bottom:1px solid #e5e7eb;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}.dim{color:#6b7280}.warn,.error{color:#b91c1c}
.badge{padding:0 .4rem;border-radius:.6rem;background:#e5e7eb;font-size:12px}.s-completed,.s-ok,.s-closed,.s-valid{background:#d1fae5}
.s-running,.s-halfOpen,.s-degraded,.s-unknown{background:#fef3c7}.s-failed,.s-open,.s-interrupted,.s-invalid{background:#fee2e2}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{color:#6b7280}dd{margin:0}
.filters{margin:.5rem 0}.pager{display:flex;gap:1rem;margin:.5rem 0}.cols{display:flex;gap:2rem;flex-wrap:wrap}
code{font-size:12px;background:#f3f4f6;padding:0 .2rem}svg.chart a text{cursor:pointer}
`;

/** The page's one script, served as /assets/window.js: refreshes the breakers table in place. */
export const WINDOW_JS = `
(function () {
  var tbody = document.querySelector('tbody[data-refresh]');
  if (!tbody) return;
  var stamp = document.getElementById('refreshed');
  setInterval(function () {
    fetch(tbody.getAttribute('data-refresh'), { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (rows) {
        if (rows === null) return;
        tbody.innerHTML = rows; // server-rendered, every value escaped
        if (stamp) stamp.textContent = new Date().toISOString().replace('T', ' ').replace(/\\.\\d+Z$/, 'Z');
      })
      .catch(function () {});
  }, 3000);
})();
`;
