import type { IncomingMessage, ServerResponse } from 'node:http';
import { decideFault, type FaultMode, type FaultProfile } from './faults.js';
import { redirectTo, siteFaults, sitePage } from './sites.js';
import type { SimContext, SimRequest, SimResponse, SimVendor, VendorSim } from './types.js';
import { apifySim } from './vendors/apify.js';
import { lushaSim } from './vendors/lusha.js';
import { openaiSim } from './vendors/openai.js';
import { tavilySim } from './vendors/tavily.js';
import { zerobounceSim } from './vendors/zerobounce.js';

/** URL prefix of each imitated party; the base URLs handed out point at these. */
export const PREFIXES: Record<SimVendor, string> = {
  tavily: '/tavily',
  openai: '/openai/v1',
  zerobounce: '/zerobounce/v2',
  lusha: '/lusha',
  apify_linkedin: '/apify/v2',
  crawler: '/sites',
};

const VENDOR_SIMS: Record<Exclude<SimVendor, 'crawler'>, VendorSim> = {
  tavily: tavilySim,
  openai: openaiSim,
  zerobounce: zerobounceSim,
  lusha: lushaSim,
  apify_linkedin: apifySim,
};

/** The mutable state the handler reads: profiles, counters, generators, keys. */
export interface SimState {
  seed: number;
  latencyMs: number;
  keys: Record<Exclude<SimVendor, 'crawler'>, string>;
  profiles: Map<SimVendor, FaultProfile>;
  counts: Map<SimVendor, number>;
  /** When each vendor's first call (since start or reset) arrived, epoch ms. */
  firstCallAt: Map<SimVendor, number>;
  randoms: Map<SimVendor, () => number>;
  /** Every request received, per vendor, for assertions. */
  requests: Map<SimVendor, RecordedRequest[]>;
  /** Pending latency timers, cleared on close. */
  timers: Set<NodeJS.Timeout>;
}

/** One received request as recorded. */
export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
  fault: FaultMode;
  /** When it arrived (epoch ms, the simulator's own clock): the rate a fleet's limiter lets through. */
  at: number;
}

/** Which party a path belongs to, and the path below its prefix. */
function route(pathname: string): { vendor: SimVendor; path: string } | null {
  for (const [vendor, prefix] of Object.entries(PREFIXES) as [SimVendor, string][]) {
    if (pathname === prefix || pathname.startsWith(`${prefix}/`)) return { vendor, path: pathname.slice(prefix.length) || '/' };
  }
  if (pathname === '/redirect') return { vendor: 'crawler', path: '/redirect' };
  return null;
}

function send(res: ServerResponse, answer: SimResponse): void {
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  const headers = { 'content-type': 'application/json', ...answer.headers, 'content-length': String(Buffer.byteLength(text)) };
  res.writeHead(answer.status, headers).end(text);
}

function answerFor(vendor: SimVendor, fault: FaultMode, req: SimRequest, ctx: SimContext, profile: FaultProfile, state: SimState): SimResponse {
  if (vendor === 'crawler') {
    if (fault === 'rate_limit') return siteFaults.status(429, profile.retryAfterS ?? 1);
    if (fault === 'server_error') return siteFaults.status(profile.status ?? 503);
    if (fault === 'invalid_key') return siteFaults.status(403);
    if (fault === 'quota') return siteFaults.status(402);
    if (fault === 'schema') return { status: 200, body: '\u0000\u0001 binary', headers: { 'content-type': 'application/octet-stream' } };
    if (req.path === '/redirect') return redirectTo(req.query.get('to'));
    const [, domain = ''] = /^\/([^/]+)/.exec(req.path) ?? [];
    return sitePage(state.seed, domain.toLowerCase(), PREFIXES.crawler);
  }
  const sim = VENDOR_SIMS[vendor];
  switch (fault) {
    case 'rate_limit':
      return sim.rateLimited(profile.retryAfterS);
    case 'server_error':
      return sim.serverError(profile.status ?? 503);
    case 'invalid_key':
      return sim.invalidKey();
    case 'quota':
      return sim.quota(profile.status, profile.quotaCode);
    case 'schema':
      return sim.schemaMismatch(ctx);
    default:
      return sim.authorised(req, ctx.key) ? sim.ok(req, ctx) : sim.invalidKey();
  }
}

/** Reads the body (up to 1 MiB) and parses it as JSON when it is JSON. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1024 * 1024) break;
    chunks.push(chunk as Buffer);
  }
  if (chunks.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Handles one request: route, count, decide the fault, wait the latency, answer (or not). */
export async function handle(state: SimState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim.local');
  const target = route(url.pathname);
  const json = await readJson(req);
  if (!target) {
    send(res, { status: 404, body: { error: 'no such simulated endpoint' } });
    return;
  }
  const { vendor, path } = target;
  const callIndex = state.counts.get(vendor) ?? 0;
  state.counts.set(vendor, callIndex + 1);
  const firstCallAt = state.firstCallAt.get(vendor) ?? Date.now();
  state.firstCallAt.set(vendor, firstCallAt);
  const profile = state.profiles.get(vendor) ?? {};
  // A site whose domain starts with `stuck` never answers (a company that runs into its deadline).
  const stuckSite = vendor === 'crawler' && path.startsWith('/stuck');
  const fault = stuckSite ? 'hang' : decideFault(profile, callIndex, state.randoms.get(vendor) ?? Math.random, Date.now() - firstCallAt);
  state.requests.get(vendor)?.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: { ...req.headers }, json, fault, at: Date.now() });
  const latency = state.latencyMs + (profile.latencyMs ?? 0);
  if (latency > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        state.timers.delete(timer);
        resolve();
      }, latency);
      state.timers.add(timer);
    });
  }
  if (res.destroyed) return;
  if (fault === 'hang') return; // the socket stays open until the client aborts or close()
  if (fault === 'reset') {
    req.socket.destroy();
    return;
  }
  const simRequest: SimRequest = { method: req.method ?? 'GET', path, query: url.searchParams, headers: req.headers, json };
  const key = vendor === 'crawler' ? '' : state.keys[vendor];
  const ctx: SimContext = { seed: state.seed, callIndex, key };
  if (fault === 'malformed') {
    const status = vendor === 'crawler' ? 200 : VENDOR_SIMS[vendor].successStatus;
    send(res, { status, body: '{"results": [{"title": "cut off', headers: { 'content-type': 'application/json' } });
    return;
  }
  send(res, answerFor(vendor, fault, simRequest, ctx, profile, state));
}
