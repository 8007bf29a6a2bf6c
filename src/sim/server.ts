import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toProfile, type FaultProfile, type ProfileInput } from './faults.js';
import { handle, PREFIXES, type RecordedRequest, type SimState } from './handler.js';
import { hash, mulberry32 } from './random.js';
import { SIM_VENDORS, type SimVendor } from './types.js';

/** Options of {@link startSimulator}. */
export interface SimulatorOptions {
  /** Seed of generated data and fault probabilities. Default 1. */
  seed?: number;
  /** Initial fault profile per party (mode shorthand or full profile). Default all `ok`. */
  profiles?: Partial<Record<SimVendor, ProfileInput>>;
  /** Delay before every answer, in milliseconds. Default 0. */
  latencyMs?: number;
}

/** A running simulator. */
export interface Simulator {
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string;
  /**
   * Environment overrides pointing every vendor base URL and CRAWL_URL_TEMPLATE at the simulator,
   * with fake keys, for `configFrom(sim.overrides)`. Includes CRAWL_ALLOW_PRIVATE_NETWORKS=true
   * because the simulated sites live on loopback, which the SSRF guard refuses by default.
   */
  overrides: Record<string, string>;
  /** Replaces a party's fault profile; its call counter keeps running. */
  setProfile(vendor: SimVendor, profile: ProfileInput): void;
  /** Requests received by a party since start or the last reset. */
  calls(vendor: SimVendor): number;
  /** Every party's request count. */
  callCounts(): Record<SimVendor, number>;
  /** The requests a party received (method, url, headers, parsed JSON body, fault applied). */
  requests(vendor: SimVendor): readonly RecordedRequest[];
  /** Zeroes the counters, re-seeds the generators and restores the initial profiles. */
  reset(): void;
  /** Stops listening and destroys every open connection (hanging requests included). */
  close(): Promise<void>;
}

/** The fake keys the simulator expects; anything else gets the vendor's invalid-key answer. */
export const SIM_KEYS = {
  tavily: 'tvly-sim-key',
  openai: 'sk-sim-key',
  zerobounce: 'zb-sim-key',
  lusha: 'lusha-sim-key',
  apify_linkedin: 'apify_api_sim-key',
} as const;

/**
 * Starts the vendor and website simulator on 127.0.0.1, on an ephemeral port.
 *
 * @throws Error when the server cannot listen
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const seed = options.seed ?? 1;
  const initial = new Map<SimVendor, FaultProfile>(
    Object.entries(options.profiles ?? {}).map(([v, p]) => [v as SimVendor, toProfile(p)]),
  );
  const state: SimState = {
    seed,
    latencyMs: options.latencyMs ?? 0,
    keys: { ...SIM_KEYS },
    profiles: new Map(),
    counts: new Map(),
    firstCallAt: new Map(),
    randoms: new Map(),
    requests: new Map(),
    timers: new Set(),
  };
  const reset = (): void => {
    state.profiles = new Map(initial);
    state.firstCallAt.clear();
    for (const vendor of SIM_VENDORS) {
      state.counts.set(vendor, 0);
      state.randoms.set(vendor, mulberry32(hash(seed, 'faults', vendor)));
      state.requests.set(vendor, []);
    }
  };
  reset();

  const server: Server = createServer((req, res) => {
    handle(state, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const overrides: Record<string, string> = {
    TAVILY_BASE_URL: `${baseUrl}${PREFIXES.tavily}`,
    TAVILY_API_KEY: SIM_KEYS.tavily,
    OPENAI_BASE_URL: `${baseUrl}${PREFIXES.openai}`,
    OPENAI_API_KEY: SIM_KEYS.openai,
    ZEROBOUNCE_BASE_URL: `${baseUrl}${PREFIXES.zerobounce}`,
    ZEROBOUNCE_API_KEY: SIM_KEYS.zerobounce,
    LUSHA_BASE_URL: `${baseUrl}${PREFIXES.lusha}`,
    LUSHA_API_KEY: SIM_KEYS.lusha,
    APIFY_BASE_URL: `${baseUrl}${PREFIXES.apify_linkedin}`,
    APIFY_TOKEN: SIM_KEYS.apify_linkedin,
    CRAWL_URL_TEMPLATE: `${baseUrl}${PREFIXES.crawler}/{domain}/`,
    CRAWL_ALLOW_PRIVATE_NETWORKS: 'true',
  };

  return {
    baseUrl,
    overrides,
    setProfile: (vendor, profile) => void state.profiles.set(vendor, toProfile(profile)),
    calls: (vendor) => state.counts.get(vendor) ?? 0,
    callCounts: () => Object.fromEntries(SIM_VENDORS.map((v) => [v, state.counts.get(v) ?? 0])) as Record<SimVendor, number>,
    requests: (vendor) => [...(state.requests.get(vendor) ?? [])],
    reset,
    close: async () => {
      for (const timer of state.timers) clearTimeout(timer);
      state.timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
