import type { EnabledVendors } from '../domain/vendor.js';
import type { Config } from './config.js';

const on = (key: string | null): boolean => key !== null && key.length > 0;

/**
 * Which vendors are on: those whose key (APIFY_TOKEN for Apify LinkedIn) is set and not empty.
 * The one place this is decided: the chain skips a vendor that is off (enrichmentInputFrom) and no
 * adapter is built for it (createVendorAdapters). Feature switches (ENABLE_*) are not looked at here.
 */
export function vendorsOn(config: Pick<Config, 'vendors'>): EnabledVendors {
  const { vendors } = config;
  return {
    tavily: on(vendors.tavily.apiKey),
    openai: on(vendors.openai.apiKey),
    zerobounce: on(vendors.zerobounce.apiKey),
    lusha: on(vendors.lusha.apiKey),
    apify_linkedin: on(vendors.apify.apiKey),
  };
}
