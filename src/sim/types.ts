import type { IncomingHttpHeaders } from 'node:http';

/** The parties the simulator imitates: the five vendors and company websites (`crawler`). */
export const SIM_VENDORS = ['tavily', 'openai', 'zerobounce', 'lusha', 'apify_linkedin', 'crawler'] as const;
export type SimVendor = (typeof SIM_VENDORS)[number];

/** A request as a vendor imitation sees it (path relative to the vendor's prefix). */
export interface SimRequest {
  method: string;
  /** Path below the vendor prefix, e.g. `/search` or `/v3/contacts/enrich`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, or undefined when absent or not JSON. */
  json: unknown;
}

/** What to send back. A string body is sent as is; anything else as JSON. */
export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** Context of one answer. */
export interface SimContext {
  seed: number;
  /** 0-based index of this call to the vendor. */
  callIndex: number;
  /** The fake key the vendor expects. */
  key: string;
}

/** One vendor imitation: its normal answers and its error bodies, shaped like the real API's. */
export interface VendorSim {
  /** Whether the request carries the expected key, where the real API expects it. */
  authorised(req: SimRequest, key: string): boolean;
  /** The normal answer (after the key check). */
  ok(req: SimRequest, ctx: SimContext): SimResponse;
  invalidKey(): SimResponse;
  /**
   * @param status a variant status from the profile, if any
   * @param code a variant error code from the profile, if any (OpenAI's billing codes)
   */
  quota(status?: number, code?: string): SimResponse;
  /** @param retryAfterS the profile's wait in seconds, if set (each imitation applies its default) */
  rateLimited(retryAfterS: number | undefined): SimResponse;
  serverError(status: number): SimResponse;
  /** JSON that parses but does not match the documented schema. */
  schemaMismatch(ctx: SimContext): SimResponse;
  /** Success status used for `malformed` bodies (Apify answers 201). */
  successStatus: number;
}

/** A JSON body with a status and optional headers. */
export function reply(status: number, body: unknown, headers?: Record<string, string>): SimResponse {
  return headers ? { status, body, headers } : { status, body };
}
