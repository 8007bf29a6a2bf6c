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

  it('masks every secret-named field wherever it sits: top level, nested, in child bindings, in arrays', () => {
    // Field names as vendors, HTTP and our config spell them, checked independently of the logger's own list.
    const names = ['apiKey', 'api_key', 'api-key', 'x-api-key', 'key', 'token', 'access_token', 'accessToken', 'refresh_token', 'password', 'passwd',
      'pwd', 'secret', 'client_secret', 'authorization', 'Authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'ODOO_PASSWORD', 'tavilyApiKey', 'APIFY_TOKEN'];
    for (const name of names) {
      const out = capture();
      const logger = createLogger({ level: 'info', destination: out.stream });
      childLogger(logger.child({ [name]: SECRET }), { runId: 1 }).info(
        { [name]: SECRET, req: { headers: { [name]: SECRET } }, deep: { a: { b: { c: { [name]: SECRET } } } }, list: [{ [name]: SECRET }] },
        'call',
      );
      const grandchild = logger.child({ nested: { [name]: SECRET } }).child({ [name]: SECRET });
      grandchild.setBindings({ later: { [name]: SECRET } });
      grandchild.warn('from a grandchild');
      expect(out.raw(), name).not.toContain(SECRET);
      expect(out.lines()[0]?.[name], name).toBe(MASK);
      expect(out.lines()[1], name).toMatchObject({ [name]: MASK, nested: { [name]: MASK }, later: { [name]: MASK }, msg: 'from a grandchild' });
    }
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

  it("masks the message pino takes from an Error logged alone", () => {
    const { stream, lines } = capture();
    const logger = createLogger({ level: 'info', destination: stream });
    logger.error(new Error('call to https://api.example/v1?token=TOK1SECRET failed'));
    const [line] = lines();
    expect(JSON.stringify(line)).not.toContain('TOK1SECRET');
    expect(String(line?.msg)).toContain('https://api.example/v1');
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
