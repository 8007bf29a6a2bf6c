import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { RUN_STATUSES, type Logger, type WindowReader } from '../../domain/index.js';
import { WINDOW_CSS, WINDOW_JS, breakerRows, breakersPage, companyPage, errorPage, queuePage, runPage, runsPage } from './html.js';
import { METRICS_CONTENT_TYPE, serveMetrics } from './metrics.js';

/** What the window's app is built from. */
export interface WindowAppOptions {
  reader: WindowReader;
  /** SERVE_TOKEN; null: no token asked (loopback only, checked by the caller). */
  token: string | null;
  /** CB_COOL_OFF_S: when an open breaker's next probe may go. */
  coolOffS: number;
  logger: Logger;
  /** Epoch ms now (tests inject it). */
  now?: () => number;
  /** Runs and companies per page. Default 25 and 50. */
  pageSize?: { runs?: number; companies?: number };
  /** Seconds within which a worker counts as seen lately. Default 300. */
  workersWithinS?: number;
}

/** A request the page cannot answer as asked (400), with a message that says what is wrong. */
class BadRequest extends Error {}
/** Something the page was asked for that does not exist (404). */
class NotFound extends Error {}

const COOKIE = 'lead_enrich_window';
/** The cookie holds a digest of the token, never the token itself. */
const cookieValue = (token: string): string => createHash('sha256').update(`lead-enrich-window:${token}`).digest('hex');
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
const same = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

const intParam = (name: string, min: number, max: number) =>
  z.string().trim().regex(/^\d+$/, `${name} expects an integer from ${min} to ${max}`).transform(Number).pipe(z.number().int().min(min, `${name} expects an integer from ${min} to ${max}`).max(max, `${name} expects an integer from ${min} to ${max}`));
const reasonParam = z.string().trim().regex(/^[A-Za-z0-9_:.-]{1,100}$/, 'reason expects a reason code such as CRAWL_THIN or CIRCUIT_OPEN:tavily');
const statusParam = z.enum(RUN_STATUSES, { message: `status expects one of ${RUN_STATUSES.join(', ')}` });
const PAGE = intParam('page', 1, 1_000_000);
const ID = intParam('id', 1, Number.MAX_SAFE_INTEGER);

/**
 * The query of a request, validated: only `allowed` keys (and `token`), each given once; an empty
 * value counts as absent (an empty filter field of a form).
 */
function query<S extends Record<string, z.ZodType<unknown>>>(c: Context, schema: S): { [K in keyof S]?: z.output<S[K]> } {
  const url = new URL(c.req.url);
  const out: Record<string, unknown> = {};
  for (const key of new Set(url.searchParams.keys())) {
    if (key === 'token') continue;
    const shape = schema[key];
    if (!shape) throw new BadRequest(`unknown query parameter ${JSON.stringify(key)}${Object.keys(schema).length ? ` (expected ${Object.keys(schema).join(', ')})` : ''}`);
    const values = url.searchParams.getAll(key);
    if (values.length > 1) throw new BadRequest(`query parameter ${JSON.stringify(key)} given ${values.length} times`);
    const raw = values[0]!;
    if (raw.trim() === '') continue;
    const parsed = shape.safeParse(raw);
    if (!parsed.success) throw new BadRequest(`${parsed.error.issues[0]?.message ?? `bad ${key}`}, got ${JSON.stringify(raw.slice(0, 100))}`);
    out[key] = parsed.data;
  }
  return out as { [K in keyof S]?: z.output<S[K]> };
}

function pathId(c: Context, name: string): number {
  const raw = c.req.param(name) ?? '';
  const parsed = ID.safeParse(raw);
  if (!parsed.success) throw new BadRequest(`${name === 'id' ? 'run' : 'company'} id expects a positive integer, got ${JSON.stringify(raw.slice(0, 100))}`);
  return parsed.data;
}

const SECURITY_HEADERS: Record<string, string> = {
  // No inline script or style anywhere: a name that slipped through escaping still could not run.
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/**
 * The operators' window (DESIGN.md "The operators' window") as a hono app: the runs, one run and
 * its companies, one company, the breakers (live), the queue, /metrics and /healthz. Read-only.
 *
 * With a token, every request but /healthz needs it: `Authorization: Bearer <token>`, or once
 * `?token=<token>`, which sets an HttpOnly cookie (a digest of the token) and redirects to the same
 * address without it; anything else is 401. Request logs carry the path only, never the query.
 */
export function createWindowApp(options: WindowAppOptions): Hono {
  const { reader, token, coolOffS, logger } = options;
  const now = options.now ?? Date.now;
  const runsPer = options.pageSize?.runs ?? 25;
  const companiesPer = options.pageSize?.companies ?? 50;
  const withinS = options.workersWithinS ?? 300;
  const app = new Hono();

  app.use('*', async (c, next) => {
    const started = now();
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
    logger.debug({ method: c.req.method, path: c.req.path, status: c.res.status, ms: now() - started }, 'window request');
  });

  app.get('/healthz', async (c) => {
    try {
      await reader.ping();
      return c.text('ok\n');
    } catch {
      return c.text('database unreachable\n', 503);
    }
  });

  if (token !== null) {
    const expectedCookie = cookieValue(token);
    app.use('*', async (c, next) => {
      const auth = c.req.header('authorization') ?? '';
      const bearer = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
      if (bearer !== undefined && same(bearer, token)) return next();
      const url = new URL(c.req.url);
      const given = url.searchParams.get('token');
      if (given !== null && same(given, token)) {
        url.searchParams.delete('token');
        c.header('Set-Cookie', `${COOKIE}=${expectedCookie}; HttpOnly; SameSite=Strict; Path=/`);
        // Same-origin path only: `//host/...` would be another site.
        return c.redirect(`/${url.pathname.replace(/^\/+/, '')}${url.search}`, 303);
      }
      const cookie = /(?:^|;\s*)lead_enrich_window=([0-9a-f]{64})(?:;|$)/.exec(c.req.header('cookie') ?? '')?.[1];
      if (cookie !== undefined && same(cookie, expectedCookie)) return next();
      c.header('WWW-Authenticate', 'Bearer realm="lead-enrich"');
      return c.text('401: this server needs SERVE_TOKEN: send "Authorization: Bearer <token>", or open the page once with ?token=<token>\n', 401);
    });
  }

  app.get('/', (c) => c.redirect('/runs', 302));
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.get('/assets/window.css', (c) => c.body(WINDOW_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8' }));
  app.get('/assets/window.js', (c) => c.body(WINDOW_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));

  app.get('/runs', async (c) => {
    const q = query(c, { tenant: intParam('tenant', 0, 2147483647), status: statusParam, page: PAGE });
    const page = await reader.runs({ ...(q.tenant !== undefined ? { tenantId: q.tenant } : {}), ...(q.status ? { status: q.status } : {}), page: q.page ?? 1, pageSize: runsPer });
    return c.html(runsPage(page, { ...(q.tenant !== undefined ? { tenant: q.tenant } : {}), ...(q.status ? { status: q.status } : {}) }));
  });

  app.get('/runs/:id', async (c) => {
    const runId = pathId(c, 'id');
    const q = query(c, { reason: reasonParam, page: PAGE });
    const run = await reader.run(runId);
    if (!run) throw new NotFound(`run ${runId} does not exist`);
    const companies = await reader.companies({ runId, ...(q.reason ? { reason: q.reason } : {}), page: q.page ?? 1, pageSize: companiesPer });
    return c.html(runPage(run, companies, q.reason));
  });

  app.get('/runs/:id/companies/:company', async (c) => {
    const runId = pathId(c, 'id');
    const companyId = pathId(c, 'company');
    query(c, {});
    const company = await reader.company(runId, companyId);
    if (!company) {
      if (!(await reader.run(runId))) throw new NotFound(`run ${runId} does not exist`);
      throw new NotFound(`company ${companyId} has no result in run ${runId}`);
    }
    return c.html(companyPage(company));
  });

  app.get('/breakers', async (c) => {
    query(c, {});
    return c.html(breakersPage(await reader.breakers(), coolOffS, now()));
  });
  app.get('/breakers/rows', async (c) => {
    query(c, {});
    return c.html(breakerRows(await reader.breakers(), coolOffS, now()));
  });

  app.get('/queue', async (c) => {
    query(c, {});
    const [depth, workers] = await Promise.all([reader.queue(), reader.workers(withinS)]);
    return c.html(queuePage(depth, workers, withinS));
  });

  app.get('/metrics', async (c) => c.body(await serveMetrics(reader), 200, { 'Content-Type': METRICS_CONTENT_TYPE }));

  app.notFound((c) => c.html(errorPage(404, `nothing at ${c.req.path}`), 404));
  app.onError((error, c) => {
    if (error instanceof BadRequest) return c.html(errorPage(400, error.message), 400);
    if (error instanceof NotFound) return c.html(errorPage(404, error.message), 404);
    logger.error({ err: error, path: c.req.path }, 'window request failed');
    return c.html(errorPage(500, 'the page could not be read from the database (see the logs)'), 500);
  });
  return app;
}

/** /metrics and /healthz of one process (`worker --metrics-port`). */
export function createMetricsApp(options: { metrics: () => Promise<string>; health: () => Promise<void>; logger: Logger }): Hono {
  const app = new Hono();
  app.get('/healthz', async (c) => {
    try {
      await options.health();
      return c.text('ok\n');
    } catch {
      return c.text('database unreachable\n', 503);
    }
  });
  app.get('/metrics', async (c) => c.body(await options.metrics(), 200, { 'Content-Type': METRICS_CONTENT_TYPE }));
  app.notFound((c) => c.text('not found: /metrics and /healthz only\n', 404));
  app.onError((error, c) => {
    options.logger.error({ err: error, path: c.req.path }, 'metrics request failed');
    return c.text('metrics unavailable\n', 500);
  });
  return app;
}
