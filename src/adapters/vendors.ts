import type { Config } from '../config/index.js';
import type { ContactSourcePort, CrawlerPort, EmailVerifierPort, ExtractorPort, SearchPort } from '../domain/ports.js';
import { createApifyLinkedinClient } from './apifyLinkedin.js';
import { createCrawler, type CrawlerDeps } from './crawler.js';
import type { HttpAdapterDeps } from './http/deps.js';
import { createLushaClient } from './lusha.js';
import { createOpenAiClient } from './openai.js';
import { createTavilyClient } from './tavily.js';
import { createZeroBounceClient } from './zerobounce.js';

/** Every enrichment adapter; a vendor without its key is null (off: its step is skipped). */
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
 * Feature flags (ENABLE_*) are the chain's business, not this function's: only keys decide here.
 */
export function createVendorAdapters(config: Config, deps: { http?: HttpAdapterDeps; crawler?: CrawlerDeps } = {}): VendorAdapters {
  const { vendors } = config;
  const http = deps.http ?? {};
  return {
    crawler: createCrawler(config, deps.crawler),
    tavily: vendors.tavily.apiKey ? createTavilyClient(config, http) : null,
    openai: vendors.openai.apiKey ? createOpenAiClient(config, http) : null,
    apifyLinkedin: vendors.apify.apiKey ? createApifyLinkedinClient(config, http) : null,
    lusha: vendors.lusha.apiKey ? createLushaClient(config, http) : null,
    zerobounce: vendors.zerobounce.apiKey ? createZeroBounceClient(config, http) : null,
  };
}
