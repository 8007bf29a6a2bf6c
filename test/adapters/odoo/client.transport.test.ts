import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOdooClient } from '../../../src/adapters/odoo/client.js';
import { isVendorError, type VendorError } from '../../../src/domain/errors.js';
import type { OdooTarget } from '../../../src/domain/odoo.js';
import { startFakeOdoo, type FakeOdoo } from '../../../src/sim/fakeOdoo.js';
import { startHostileOdoo } from '../../support/odoo/hostile.js';
import { closedPortUrl, manualTimeouts } from '../../support/odoo/transport.js';

/** Transport failures of the client against the fake Odoo and a few raw HTTP servers. */
const KEY = 'transport-secret-4242';
let fake: FakeOdoo;
let target: OdooTarget;

beforeAll(async () => {
  fake = await startFakeOdoo();
  fake.addDatabase('t1', { login: 'bot', apiKey: KEY });
  target = { url: fake.url, db: 't1', login: 'bot', apiKey: KEY };
});
afterAll(async () => fake.close());
afterEach(() => {
  fake.setDown(null);
  fake.setBehaviour('t1', { down: undefined, delayMs: 0 });
});

async function failure(promise: Promise<unknown>): Promise<VendorError> {
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  if (!isVendorError(error)) throw error;
  expect(error.vendor).toBe('odoo');
  expect(`${error.message} ${JSON.stringify(error)}`).not.toContain(KEY);
  return error;
}

async function rawServer(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('Odoo client transport', () => {
  it('authenticates and round-trips a create over real XML-RPC', async () => {
    const client = createOdooClient(target);
    const uid = await client.authenticate();
    const id = await client.executeKw(uid, 'res.partner', 'create', [{ name: 'Acme', is_company: true }]);
    expect(fake.database('t1').partners.all()).toContainEqual(expect.objectContaining({ id, name: 'Acme', company_type: 'company' }));
  });

  it('aborts a hanging server when its timeout fires (injected timeout, no real wait)', async () => {
    fake.setBehaviour('t1', { down: 'hang' });
    const timeouts = manualTimeouts();
    const arrived = fake.nextCall();
    const pending = createOdooClient(target, { timeoutMs: 60_000, timeoutSignal: timeouts.factory }).authenticate();
    await arrived;
    expect(timeouts.created).toEqual([60_000]);
    const closed = fake.nextConnectionClose();
    timeouts.fireAll();
    const error = await failure(pending);
    await closed; // the socket really was destroyed, not just the promise rejected
    expect([error.kind, error.detail]).toEqual(['timeout', 'attempt timed out']);
  });

  it('aborts a hanging server with the default AbortSignal.timeout', async () => {
    fake.setDown('hang');
    const error = await failure(createOdooClient(target, { timeoutMs: 40 }).version());
    expect(error.kind).toBe('timeout');
  });

  it('classifies a caller abort as timeout/aborted', async () => {
    fake.setDown('hang');
    const controller = new AbortController();
    const pending = createOdooClient(target).version(controller.signal);
    controller.abort();
    expect((await failure(pending)).detail).toBe('aborted');
  });

  it('classifies a destroyed connection and a refused connection as network', async () => {
    fake.setBehaviour('t1', { down: 'reset' });
    expect((await failure(createOdooClient(target).authenticate())).kind).toBe('network');
    const refused = await failure(createOdooClient({ ...target, url: await closedPortUrl() }).version());
    expect([refused.kind, refused.detail]).toEqual(['network', 'ECONNREFUSED']);
  });

  it("classifies a proxy's 502 HTML page as server with its status", async () => {
    fake.setDown('html');
    const error = await failure(createOdooClient(target).version());
    expect([error.kind, error.status]).toEqual(['server', 502]);
  });

  it('classifies a 200 that is not XML-RPC, and a malformed result, as bad_response', async () => {
    const html = await rawServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>Login</body></html>'));
    const wrong = await rawServer((_req, res) =>
      res.writeHead(200).end('<?xml version="1.0"?><methodResponse><params><param><value><string>x</string></value></param></params></methodResponse>'),
    );
    try {
      expect((await failure(createOdooClient({ ...target, url: html.url }).version())).kind).toBe('bad_response');
      expect((await failure(createOdooClient({ ...target, url: wrong.url }).authenticate())).kind).toBe('bad_response');
    } finally {
      html.server.close();
      wrong.server.close();
    }
  });

  it('a malformed answer (an empty fault, a boolean that is not 0/1) is bad_response, never an uncaught exception', async () => {
    const bodies = [
      '<?xml version="1.0"?><methodResponse><fault></fault></methodResponse>',
      '<?xml version="1.0"?><methodResponse><params><param><value><boolean>2</boolean></value></param></params></methodResponse>',
      '<?xml version="1.0"?><methodResponse><params><param><value><int>twelve</int></value></param></params></methodResponse>',
    ];
    const servers = await Promise.all(bodies.map((body) => rawServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/xml' }).end(body))));
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => void uncaught.push(error);
    process.prependListener('uncaughtException', onUncaught);
    try {
      for (const { url } of servers) expect((await failure(createOdooClient({ ...target, url }).version())).kind).toBe('bad_response');
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      for (const { server } of servers) server.close();
    }
  });

  it('an XML bomb (nested entities) is not expanded: the answer is refused or read as it stands, in bounded memory', async () => {
    const entities = ['<!ENTITY a0 "ha">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY a${i + 1} "${`&a${i};`.repeat(10)}">`)].join('');
    const bomb = `<?xml version="1.0"?><!DOCTYPE methodResponse [${entities}]><methodResponse><params><param><value><string>&a9;</string></value></param></params></methodResponse>`;
    const { url, server } = await rawServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/xml' }).end(bomb));
    try {
      const heapBefore = process.memoryUsage().heapUsed;
      const outcome = await createOdooClient({ ...target, url })
        .version()
        .then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        );
      // 10^9 "ha"s expanded would be gigabytes; whatever the parser makes of the entity, it is not that.
      if ('value' in outcome) expect(JSON.stringify(outcome.value).length).toBeLessThan(10_000);
      else expect(isVendorError(outcome.error) && outcome.error.kind).toBe('bad_response');
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    } finally {
      server.close();
    }
  });

  describe('a hostile Odoo on loopback answering a huge body (ODOO_MAX_RESPONSE_BYTES)', () => {
    const MiB = 1024 * 1024;
    /** A timeout that never fires on its own: the cap must end the call, not the clock. */
    const noTimeout = () => manualTimeouts().factory;

    it('a never-ending body is bad_response "response too large" at the default 4 MiB cap: reading stops and the socket is destroyed', async () => {
      const hostile = await startHostileOdoo({ bodyBytes: Number.POSITIVE_INFINITY });
      try {
        const error = await failure(createOdooClient({ ...target, url: hostile.url }, { timeoutSignal: noTimeout() }).authenticate());
        expect(error).toMatchObject({ kind: 'bad_response', status: 200, detail: 'response too large' });
        expect(error.retryable).toBe(false);
        await hostile.closed; // the client destroyed the connection: the server's writes fail from here on
        const written = hostile.written();
        // Backpressure bounds what the server could write to what the client read plus the loopback
        // socket buffers: the client stopped reading at the cap.
        expect(written).toBeLessThan(4 * MiB + 32 * MiB);
      } finally {
        await hostile.close();
      }
    });

    it('a finite body over a smaller cap, streamed without Content-Length, is bad_response too (not a parse of it)', async () => {
      const hostile = await startHostileOdoo({ bodyBytes: 24 * MiB });
      try {
        const error = await failure(createOdooClient({ ...target, url: hostile.url }, { timeoutSignal: noTimeout(), maxResponseBytes: MiB }).version());
        expect([error.kind, error.detail]).toEqual(['bad_response', 'response too large']);
        await hostile.closed;
      } finally {
        await hostile.close();
      }
    });

    it('a declared Content-Length over the cap fails at once, before any body is read', async () => {
      const hostile = await startHostileOdoo({ bodyBytes: 10, declaredLength: 2 * 1024 ** 3 });
      try {
        const error = await failure(createOdooClient({ ...target, url: hostile.url }, { timeoutSignal: noTimeout(), maxResponseBytes: 64 * 1024 }).version());
        expect([error.kind, error.status, error.detail]).toEqual(['bad_response', 200, 'response too large']);
        await hostile.closed;
      } finally {
        await hostile.close();
      }
    });

    it('an answer within the cap still parses', async () => {
      const hostile = await startHostileOdoo({ bodyBytes: 2 * MiB });
      try {
        const client = createOdooClient({ ...target, url: hostile.url }, { timeoutSignal: noTimeout(), maxResponseBytes: 3 * MiB });
        const value = await client.executeKw(1, 'res.partner', 'read', []);
        expect(typeof value === 'string' && value.length).toBe(2 * MiB);
      } finally {
        await hostile.close();
      }
    });
  });

  it('refuses a URL that is not http(s) without a request', async () => {
    const error = await failure(createOdooClient({ ...target, url: 'ftp://example.com' }).version());
    expect(error.kind).toBe('bad_request');
  });
});
