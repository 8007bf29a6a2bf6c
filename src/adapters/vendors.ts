import type { Config } from '../config/index.js';
import { vendorsOn } from '../domain/index.js';
import type { ContactSourcePort, CrawlerPort, EmailVerifierPort, ExtractorPort, SearchPort } from '../domain/ports.js';
import { createApifyLinkedinClient } from './apifyLinkedin.js';
import { createCrawler, type CrawlerDeps } from './crawler.js';
import type { HttpAdapterDeps } from './http/deps.js';
import { createLushaClient } from './lusha.js';
import { createOpenAiClient } from './openai.js';
import { createTavilyClient } from './tavily.js';
import { createZeroBounceClient } from './zerobounce.js';

/** Every enrichment adapter; a vendor that is off ({@link vendorsOn}) is null: its step is skipped. */
export interface VendorAdapters {
  crawler: CrawlerPort;
  tavily: SearchPort | null;
  openai: ExtractorPort | null;
  apifyLinkedin: ContactSourcePort | null;
  lusha: ContactSourcePort | null;
  zerobounce: EmailVerifierPort | null;
}

/**
 * Builds the adapters of the fallback chain for one configuration (composition-root helper).
 * Which vendors are on is {@link vendorsOn}'s decision; feature flags (ENABLE_*) are the chain's.
 */
export function createVendorAdapters(config: Config, deps: { http?: HttpAdapterDeps; crawler?: CrawlerDeps } = {}): VendorAdapters {
  const on = vendorsOn(config);
  const http = deps.http ?? {};
  return {
    crawler: createCrawler(config, deps.crawler),
    tavily: on.tavily ? createTavilyClient(config, http) : null,
    openai: on.openai ? createOpenAiClient(config, http) : null,
    apifyLinkedin: on.apify_linkedin ? createApifyLinkedinClient(config, http) : null,
    lusha: on.lusha ? createLushaClient(config, http) : null,
    zerobounce: on.zerobounce ? createZeroBounceClient(config, http) : null,
  };
}
