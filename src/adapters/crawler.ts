import type { LookupFunction } from 'node:net';
import { domainToASCII } from 'node:url';
import { Agent } from 'undici';
import { MAX_TEXT_CHARS } from './openaiFacts.js';
import type { Config } from '../config/index.js';
import type { Clock } from '../domain/clock.js';
import { VendorError } from '../domain/errors.js';
import type { CrawlerPort, CrawlResult } from '../domain/ports.js';
import { systemClock } from './clock.js';
import { extractPage } from './html.js';
import { classifyHttpResponse } from './http/classify.js';
import { DEFAULT_MAX_BYTES, sendRequest } from './http/request.js';
import { resolveChecked, systemLookup, type LookupFn, type ResolvedAddress } from './ssrf.js';

/** Visible text kept of a crawled page, in characters (4 × what the extraction sends). */
export const MAX_KEPT_TEXT = 4 * MAX_TEXT_CHARS;

/** Dependencies of {@link createCrawler}; all optional. */
export interface CrawlerDeps {
  /** DNS resolution; default the system resolver. Tests make `evil.test` resolve to 127.0.0.1. */
  lookup?: LookupFn;
  /** Largest page read, in bytes; the rest is dropped. Default 2 MiB. */
  maxBytes?: number;
  /** Redirects followed before giving up. Default 5. */
  maxRedirects?: number;
  /**
   * Test seam: where the socket really connects once an address has passed the guard. Tests
   * route a public test address to the loopback simulator; production leaves it unset.
   */
  connectAddress?: (checked: ResolvedAddress) => ResolvedAddress;
  clock?: Clock;
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** The bare, ASCII host name of a company domain, or null when it is not one. */
export function normaliseDomain(domain: string): string | null {
  const trimmed = domain.trim().toLowerCase().replace(/\.$/, '');
  // Only letters, digits, dots and hyphens: no scheme, port, path, userinfo or fragment can ride along.
  if (!/^[\p{L}\p{N}.-]+$/u.test(trimmed)) return null;
  const ascii = domainToASCII(trimmed);
  return ascii && HOSTNAME.test(ascii) ? ascii : null;
}

/**
 * Where a redirect points, resolved against the current URL.
 *
 * @throws VendorError `bad_response` (detail `invalid redirect location`) when Location is not a
 *   URL: the site answered, wrongly, so it is not a transport failure to retry. The value itself
 *   is not put in the error (it may carry tokens or personal data).
 */
function redirectTarget(location: string, base: URL, status: number): URL {
  try {
    return new URL(location, base);
  } catch {
    throw new VendorError({ vendor: 'crawler', kind: 'bad_response', status, detail: 'invalid redirect location' });
  }
}

function refused(detail: string): VendorError {
  return new VendorError({ vendor: 'crawler', kind: 'bad_request', detail });
}

/**
 * An Agent whose every connection goes to the address the guard checked for that host name:
 * the name is never resolved a second time, so DNS rebinding cannot bypass the guard.
 */
function pinnedAgent(pins: Map<string, ResolvedAddress>, route?: CrawlerDeps['connectAddress']): Agent {
  const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    const pinned = pins.get(hostname.replace(/^\[|\]$/g, ''));
    if (!pinned) {
      callback(Object.assign(new Error(`unpinned host`), { code: 'ENOTFOUND' }));
      return;
    }
    const target = route ? route(pinned) : pinned;
    if (options.all) callback(null, [target]);
    else callback(null, target.address, target.family);
  }) as unknown as LookupFunction;
  return new Agent({ connect: { lookup }, keepAliveTimeout: 1_000 });
}

/**
 * The company-site crawler (CrawlerPort). Fetches CRAWL_URL_TEMPLATE with the domain filled in,
 * follows redirects by hand (re-checking the SSRF guard on every hop), reads at most `maxBytes`,
 * and extracts visible text and mailto: addresses; `thin` when the text is shorter than
 * CRAWL_MIN_CHARS.
 *
 * @throws VendorError (vendor `crawler`): `bad_request` with `ssrf_refused:<reason>`,
 *   `invalid_domain` or `unsupported_scheme` (never retried); `bad_response` for a redirect
 *   without Location, with a Location that is not a URL, or too many redirects; HTTP and
 *   transport failures as classified
 */
export function createCrawler(config: Pick<Config, 'crawl'>, deps: CrawlerDeps = {}): CrawlerPort {
  const lookup = deps.lookup ?? systemLookup;
  const maxRedirects = deps.maxRedirects ?? 5;
  const clock = deps.clock ?? systemClock;
  return {
    async crawl(domain: string, signal: AbortSignal): Promise<CrawlResult> {
      const host = normaliseDomain(domain);
      if (!host) throw refused('invalid_domain');
      let url = new URL(config.crawl.urlTemplate.replaceAll('{domain}', host));
      const pins = new Map<string, ResolvedAddress>();
      const agent = pinnedAgent(pins, deps.connectAddress);
      try {
        for (let hop = 0; ; hop++) {
          if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused('unsupported_scheme');
          const hostname = url.hostname.replace(/^\[|\]$/g, '');
          pins.set(hostname, await resolveChecked(hostname, { lookup, allowPrivate: config.crawl.allowPrivateNetworks, signal }));
          const res = await sendRequest('crawler', {
            method: 'GET',
            url: url.toString(),
            headers: { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.5', 'user-agent': 'lead-enrich-crawler/0.1' },
            signal,
            maxBytes: deps.maxBytes ?? DEFAULT_MAX_BYTES,
            onOverflow: 'truncate',
            dispatcher: agent,
          });
          if (res.status >= 300 && res.status < 400) {
            const location = res.headers.get('location');
            if (!location) throw new VendorError({ vendor: 'crawler', kind: 'bad_response', status: res.status, detail: 'redirect without location' });
            if (hop >= maxRedirects) throw new VendorError({ vendor: 'crawler', kind: 'bad_response', status: res.status, detail: 'too_many_redirects' });
            url = redirectTarget(location, url, res.status);
            continue;
          }
          if (res.status < 200 || res.status >= 300) throw classifyHttpResponse('crawler', res.status, res.headers, clock.now());
          const type = res.headers.get('content-type') ?? 'text/html';
          const page = /html|xml|text\/plain/i.test(type) ? extractPage(res.text) : { text: '', mailtos: [] };
          // The company holds its crawl for its whole chain (a 90 s Apify run included), and only
          // the first MAX_TEXT_CHARS go to OpenAI: keep a few times that, not a 2 MiB page.
          const text = page.text.length > MAX_KEPT_TEXT ? page.text.slice(0, MAX_KEPT_TEXT) : page.text;
          return { url: url.toString(), text, mailtos: page.mailtos, thin: page.text.length < config.crawl.minChars };
        }
      } finally {
        agent.destroy().catch(() => undefined);
      }
    },
  };
}
