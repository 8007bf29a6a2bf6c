import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { childLogger, createLogger, maskSecretsInText, MASK } from '../../src/adapters/logger.js';

function capture(): { lines: () => Record<string, unknown>[]; raw: () => string; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, raw: () => chunks.join(''), lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logger', () => {
  const SECRET = 'sk-live-9f8e7d6c5b4a';

  it('redacts key, token, password and authorization fields at any depth', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', destination: out.stream });
    logger.info({ apiKey: SECRET, api_key: SECRET, token: SECRET, vendor: { config: { password: SECRET, accessToken: SECRET } }, headers: { authorization: `Bearer ${SECRET}` }, ODOO_PASSWORD: SECRET, tokens: 42 }, 'call');
    expect(out.raw()).not.toContain(SECRET);
    const [line] = out.lines();
    expect(line?.apiKey).toBe(MASK);
    expect(line?.tokens).toBe(42); // a count, not a secret
    expect((line?.vendor as { config: { password: string } }).config.password).toBe(MASK);
  });

  it('masks secrets inside URLs, messages and errors', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', destination: out.stream });
    const url = `https://api.example.test/v2/validate?email=a@b.c&api_key=${SECRET}&x=1`;
    logger.warn({ url, err: new Error(`request to ${url} failed; db postgres://app:${SECRET}@db.local/x`) }, `GET https://h.test/?token=${SECRET}`);
    const raw = out.raw();
    expect(raw).not.toContain(SECRET);
    const [line] = out.lines();
    expect(line?.url).toBe(`https://api.example.test/v2/validate?email=a@b.c&api_key=${MASK}&x=1`);
    expect((line?.err as { message: string }).message).toContain(`postgres://app:${MASK}@db.local/x`);
    expect(line?.msg).toBe(`GET https://h.test/?token=${MASK}`);
  });

  it('gives a child per run, tenant, company and vendor', () => {
    const out = capture();
    const logger = createLogger({ level: 'debug', destination: out.stream });
    childLogger(childLogger(logger, { runId: 7, tenantId: 3 }), { companyId: 11, vendor: 'tavily' }).debug('step');
    expect(out.lines()[0]).toMatchObject({ runId: 7, tenantId: 3, companyId: 11, vendor: 'tavily', msg: 'step' });
  });

  it('leaves text without secrets alone', () => {
    const text = 'crawl https://example.com/about?page=2 took 120 ms';
    expect(maskSecretsInText(text)).toBe(text);
    expect(maskSecretsInText('Authorization: Bearer abcdefghijkl')).toBe(`Authorization: Bearer ${MASK}`);
  });
});
