import { describe, expect, it } from 'vitest';
import { classifyHttpResponse, classifyThrown, kindForStatus, parseRetryAfter } from '../../src/adapters/http/classify.js';
import { CircuitOpenError, VendorError, countsAgainstBreaker, isCircuitOpenError, isRetryableKind, isVendorError } from '../../src/domain/errors.js';

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
  it('does not attach Retry-After to kinds that are never retried', () => {
    expect(classifyHttpResponse('lusha', 401, headers({ 'retry-after': '3' }), 0)).toMatchObject({ kind: 'auth', retryAfterMs: undefined });
  });
});

describe('classifyThrown', () => {
  const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  it.each(['ECONNRESET', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_SOMETHING_NEW'])('%s → network', (code) => {
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
  it('a SyntaxError from a body → bad_response; a VendorError passes through unchanged', () => {
    expect(classifyThrown('odoo', new SyntaxError('Unexpected token')).kind).toBe('bad_response');
    const original = new VendorError({ vendor: 'odoo', kind: 'auth' });
    expect(classifyThrown('odoo', original)).toBe(original);
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
