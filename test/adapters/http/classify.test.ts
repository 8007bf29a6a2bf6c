import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { classifyAborted, classifyHttpResponse, classifyThrown, kindForStatus, mayHaveReachedVendor, parseRetryAfter } from '../../../src/adapters/http/classify.js';
import { CircuitOpenError, VendorError, countsAgainstBreaker, isCircuitOpenError, isRetryableKind, isVendorError } from '../../../src/domain/errors.js';

const headers = (init: Record<string, string>) => new Headers(init);

describe('kindForStatus', () => {
  it.each([
    [200, null],
    [204, null],
    [400, 'bad_request'],
    [422, 'bad_request'],
    [401, 'auth'],
    [403, 'auth'],
    [402, 'quota_exhausted'],
    [404, 'not_found'],
    [408, 'timeout'],
    [429, 'rate_limited'],
    [500, 'server'],
    [502, 'server'],
    [503, 'server'],
    [504, 'server'],
    [301, 'bad_response'],
    [302, 'bad_response'],
    [304, 'bad_response'],
    [307, 'bad_response'],
    [308, 'bad_response'],
  ] as const)('%i → %s', (status, kind) => {
    expect(kindForStatus(status)).toBe(kind);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 5, 1, 8, 0, 0);
  it('reads delta-seconds, fractional seconds and retry-after-ms', () => {
    expect(parseRetryAfter(headers({ 'retry-after': '7' }), now)).toBe(7000);
    expect(parseRetryAfter(headers({ 'retry-after': '1.5' }), now)).toBe(1500);
    expect(parseRetryAfter(headers({ 'retry-after-ms': '350', 'retry-after': '9' }), now)).toBe(350);
  });
  it('reads an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfter(headers({ 'retry-after': new Date(now + 12_000).toUTCString() }), now)).toBe(12_000);
    expect(parseRetryAfter(headers({ 'retry-after': new Date(now - 5_000).toUTCString() }), now)).toBe(0);
  });
  it('ignores absent and unparseable values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter(headers({}), now)).toBeUndefined();
    expect(parseRetryAfter(headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
  });
});

describe('classifyHttpResponse', () => {
  it('carries status and Retry-After on 429 and 503', () => {
    const e = classifyHttpResponse('openai', 429, headers({ 'retry-after': '3' }), 0);
    expect(e).toMatchObject({ vendor: 'openai', kind: 'rate_limited', status: 429, retryAfterMs: 3000 });
    expect(classifyHttpResponse('lusha', 503, headers({ 'retry-after': '1' }), 0).retryAfterMs).toBe(1000);
  });
  it('a redirect (not followed) is bad_response, which counts against the breaker', () => {
    const e = classifyHttpResponse('tavily', 301, headers({ location: 'https://elsewhere.example/' }), 0);
    expect(e).toMatchObject({ kind: 'bad_response', status: 301 });
    expect(countsAgainstBreaker(e.kind)).toBe(true);
  });
  it('does not attach Retry-After to kinds that are never retried', () => {
    expect(classifyHttpResponse('lusha', 401, headers({ 'retry-after': '3' }), 0)).toMatchObject({ kind: 'auth', retryAfterMs: undefined });
  });
});

describe('classifyThrown', () => {
  const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  it.each(['ECONNRESET', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])('%s → network', (code) => {
    const e = classifyThrown('tavily', withCode(code));
    expect(e.kind).toBe('network');
    expect(e.detail).toBe(code);
  });
  it('finds the code on the cause chain (fetch failed → cause ECONNREFUSED)', () => {
    const e = classifyThrown('tavily', new TypeError('fetch failed', { cause: withCode('ECONNREFUSED') }));
    expect(e).toMatchObject({ kind: 'network', detail: 'ECONNREFUSED' });
  });
  it.each(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])('%s → timeout', (code) => {
    expect(classifyThrown('zerobounce', withCode(code)).kind).toBe('timeout');
  });
  it('TimeoutError (AbortSignal.timeout) → timeout', () => {
    expect(classifyThrown('openai', new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toMatchObject({ kind: 'timeout', detail: 'attempt timed out' });
  });
  it("AbortError (the caller's abort) → timeout with detail aborted", () => {
    expect(classifyThrown('openai', new DOMException('This operation was aborted', 'AbortError'))).toMatchObject({ kind: 'timeout', detail: 'aborted' });
  });
  it.each(['fetch failed', 'terminated', 'other side closed'])('undici TypeError "%s" without a known code → network', (message) => {
    expect(classifyThrown('openai', new TypeError(message))).toMatchObject({ kind: 'network', detail: 'fetch failed' });
  });
  it("undici's UND_ERR_INVALID_ARG (a header value with \\r) → bad_request, not a network outage", async () => {
    // A real undici error: the header is refused before any connection is attempted.
    const thrown = await request('http://127.0.0.1:9/', { headers: { authorization: 'Bearer key\r' } }).then(
      () => expect.fail('undici accepted the header'),
      (error: unknown) => error,
    );
    expect((thrown as { code?: string }).code).toBe('UND_ERR_INVALID_ARG');
    const e = classifyThrown('lusha', thrown);
    expect(e).toMatchObject({ kind: 'bad_request', detail: 'request not sendable: UND_ERR_INVALID_ARG' });
    expect(isRetryableKind(e.kind)).toBe(false);
    expect(countsAgainstBreaker(e.kind)).toBe(false);
    expect(classifyThrown('lusha', new TypeError('fetch failed', { cause: thrown })).kind).toBe('bad_request');
  });
  it.each(['ERR_INVALID_URL', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_INVALID_HTTP_TOKEN', 'ERR_INVALID_CHAR'])('%s (request not buildable) → bad_request', (code) => {
    expect(classifyThrown('tavily', Object.assign(new TypeError('x'), { code })).kind).toBe('bad_request');
  });
  it('anything unrecognised → bad_response naming class and code, never the message', () => {
    const bug = classifyThrown('tavily', new TypeError("Cannot read properties of undefined (reading 'results')"));
    expect(bug).toMatchObject({ kind: 'bad_response', detail: 'unrecognised error TypeError' });
    const coded = classifyThrown('zerobounce', withCode('UND_ERR_SOMETHING_NEW', 'GET https://api.example/v2?api_key=SECRET-123 failed'));
    expect(coded).toMatchObject({ kind: 'bad_response', detail: 'unrecognised error Error UND_ERR_SOMETHING_NEW' });
    expect(JSON.stringify(coded.toJSON())).not.toContain('SECRET-123');
    expect(classifyThrown('odoo', 'a string').detail).toBe('unrecognised error string');
    expect(classifyThrown('odoo', Object.assign(new Error('x'), { code: 'has spaces and ?key=SECRET' })).detail).toBe('unrecognised error Error');
    expect(isRetryableKind(bug.kind)).toBe(false);
  });
  it("classifyAborted: the signal's TimeoutError → attempt timed out; any other reason → aborted", () => {
    expect(classifyAborted('openai', new DOMException('t', 'TimeoutError'))).toMatchObject({ kind: 'timeout', detail: 'attempt timed out' });
    expect(classifyAborted('openai', new Error('shutdown'))).toMatchObject({ kind: 'timeout', detail: 'aborted' });
    expect(classifyAborted('openai', undefined)).toMatchObject({ kind: 'timeout', detail: 'aborted' });
  });
  it('a SyntaxError from a body → bad_response; a VendorError passes through unchanged', () => {
    expect(classifyThrown('odoo', new SyntaxError('Unexpected token')).kind).toBe('bad_response');
    const original = new VendorError({ vendor: 'odoo', kind: 'auth' });
    expect(classifyThrown('odoo', original)).toBe(original);
  });
});

describe('mayHaveReachedVendor (requests not safe to repeat)', () => {
  const thrown = (code: string) => classifyThrown('apify_linkedin', Object.assign(new Error('x'), { code }));
  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'])('%s: the connection was never made', (code) => {
    expect(mayHaveReachedVendor(thrown(code))).toBe(false);
  });
  it.each(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])('%s: the request may have been received', (code) => {
    expect(mayHaveReachedVendor(thrown(code))).toBe(true);
  });
  it('a fetch failed TypeError is judged by its cause; a timeout by the signal may have been received; an abort or an answer is not in question', () => {
    expect(mayHaveReachedVendor(classifyThrown('apify_linkedin', new TypeError('fetch failed', { cause: Object.assign(new Error('c'), { code: 'ECONNREFUSED' }) })))).toBe(false);
    expect(mayHaveReachedVendor(classifyAborted('apify_linkedin', new DOMException('t', 'TimeoutError')))).toBe(true);
    expect(mayHaveReachedVendor(classifyAborted('apify_linkedin', new Error('shutdown')))).toBe(false);
    expect(mayHaveReachedVendor(new VendorError({ vendor: 'apify_linkedin', kind: 'server', status: 502 }))).toBe(false);
  });
});

describe('taxonomy', () => {
  it('retries exactly the transient kinds and counts all but bad_request/not_found', () => {
    expect(['rate_limited', 'server', 'timeout', 'network'].every((k) => isRetryableKind(k as never))).toBe(true);
    expect(['auth', 'bad_request', 'not_found', 'quota_exhausted', 'bad_response'].some((k) => isRetryableKind(k as never))).toBe(false);
    expect(countsAgainstBreaker('bad_request')).toBe(false);
    expect(countsAgainstBreaker('not_found')).toBe(false);
    expect(countsAgainstBreaker('quota_exhausted')).toBe(true);
    expect(countsAgainstBreaker('auth')).toBe(true);
  });
  it('brands survive copies: the guards accept look-alikes carrying the brand', () => {
    const e = new VendorError({ vendor: 'tavily', kind: 'server', status: 500 });
    expect(isVendorError(e)).toBe(true);
    expect(isVendorError(new Error('server'))).toBe(false);
    expect(isVendorError(Object.assign({}, e))).toBe(true);
    const open = new CircuitOpenError(1, 'lusha', 42);
    expect(isCircuitOpenError(open)).toBe(true);
    expect(isCircuitOpenError(e)).toBe(false);
    expect(e.toJSON()).toEqual({ vendor: 'tavily', kind: 'server', status: 500 });
  });
});
