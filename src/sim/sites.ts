import { CITIES, companyNameOf, hash, pick, INDUSTRIES } from './random.js';
import type { SimResponse } from './types.js';

/**
 * Company websites, generated from the domain and the seed: about a quarter are thin (less text
 * than the default CRAWL_MIN_CHARS of 500), about half carry mailto: links, and every page has
 * script/style/noscript/template text that a crawler must not count as visible.
 * Conventions: a domain starting with `thin` is always thin, `rich` always rich, `missing` is a
 * 404, `stuck` never answers (handler.ts), and `redirect.<domain>` redirects to `<domain>`'s page.
 */

const html = (status: number, body: string, headers: Record<string, string> = {}): SimResponse => ({
  status,
  body,
  headers: { 'content-type': 'text/html; charset=utf-8', ...headers },
});

function page(title: string, body: string): string {
  return [
    '<!doctype html><html><head>',
    `<title>${title}</title>`,
    '<style>.hidden-style-text{content:"STYLE_TEXT_MUST_NOT_SHOW"}</style>',
    '<script>window.__SCRIPT_TEXT_MUST_NOT_SHOW__ = true;</script>',
    '</head><body>',
    '<noscript>NOSCRIPT_TEXT_MUST_NOT_SHOW</noscript>',
    '<template><p>TEMPLATE_TEXT_MUST_NOT_SHOW</p></template>',
    body,
    '<script type="application/ld+json">{"@type":"Organization","name":"LDJSON_MUST_NOT_SHOW"}</script>',
    '</body></html>',
  ].join('\n');
}

/** The page for `/sites/<domain>/<rest>`; `prefix` is the simulator's site root for redirects. */
export function sitePage(seed: number, domain: string, prefix: string): SimResponse {
  if (domain.startsWith('missing')) return html(404, page('Not found', '<h1>404</h1><p>Not found.</p>'));
  if (domain.startsWith('redirect.')) {
    return html(301, '', { location: `${prefix}/${domain.slice('redirect.'.length)}/` });
  }
  const name = companyNameOf(domain);
  const h = hash(seed, 'site', domain);
  const thin = domain.startsWith('thin') || (!domain.startsWith('rich') && h % 4 === 0);
  const mailto = h % 2 === 0 || domain.startsWith('rich');
  const [city, country] = pick(CITIES, h >>> 4);
  const industry = pick(INDUSTRIES, h >>> 8).toLowerCase();
  const contact = mailto
    ? `<p>Write to <a href="mailto:info@${domain}">info@${domain}</a> or <a href="MAILTO:Sales@${domain}?subject=Hello">our sales team</a>.</p>`
    : '<p>Use the form on our contact page.</p>';
  if (thin) return html(200, page(name, `<h1>${name}</h1><p>Coming soon.</p>${contact}`));
  const paragraphs = [
    `<h1>${name}</h1>`,
    `<p>${name} is a ${industry} company headquartered in ${city}, ${country}. Founded in ${1960 + (h % 60)}, it employs about ${10 + (h % 990)} people.</p>`,
    `<p>We help mid-sized businesses modernise their operations with dependable ${industry} solutions, delivered by a team that has worked in the field for decades.</p>`,
    `<p>Our customers range from family-owned firms to international groups. We work in long partnerships, measure our success by theirs, and publish our results every year.</p>`,
    `<p>${name} invests in training, in open standards and in the communities it works in. Visit our offices in ${city} or meet us at the trade fairs where we exhibit each spring.</p>`,
    `<div hidden>HIDDEN_TEXT_MUST_NOT_SHOW</div>`,
    contact,
  ];
  return html(200, page(`${name} – ${industry}`, paragraphs.join('\n')));
}

/** The simulator's open redirect, `/redirect?to=<url>`, used by the SSRF tests. */
export function redirectTo(target: string | null): SimResponse {
  if (!target) return html(400, page('Bad request', '<p>to is required</p>'));
  return html(302, '', { location: target });
}

/** Bodies of faults on sites (no vendor error shapes: a site answers with HTML). */
export const siteFaults = {
  status: (status: number, retryAfterS?: number): SimResponse =>
    html(status, page(`Error ${status}`, `<h1>Error ${status}</h1>`), retryAfterS === undefined ? {} : { 'retry-after': String(retryAfterS) }),
};
