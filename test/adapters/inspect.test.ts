import { WebSocket } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { assign, createActor, setup } from 'xstate';
import { createInspector, type RunInspector } from '../../src/adapters/inspect.js';
import { closedPort } from '../support/ports.js';

const counter = setup({ types: { context: {} as { n: number }, events: {} as { type: 'counter.bump' } } }).createMachine({
  id: 'counter',
  context: { n: 0 },
  initial: 'counting',
  states: { counting: { description: 'Counting bumps.', on: { 'counter.bump': { actions: assign({ n: ({ context }) => context.n + 1 }) } } } },
});

interface Received {
  type: string;
  name?: string;
  event?: { type: string };
  snapshot?: { context?: { n: number } };
}

/** Connects a plain WebSocket client to the relay and collects what it relays. */
async function listen(port: number): Promise<{ messages: Received[]; close: () => void }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  const messages: Received[] = [];
  ws.addEventListener('message', (e) => messages.push(JSON.parse(String(e.data)) as Received));
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve);
    ws.addEventListener('error', reject);
  });
  return { messages, close: () => ws.close() };
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting for inspection events');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('inspector', () => {
  const started: RunInspector[] = [];
  const clients: { close: () => void }[] = [];
  afterEach(() => {
    clients.splice(0).forEach((c) => c.close());
    started.splice(0).forEach((i) => i.stop());
  });

  it('server mode relays a running actor\'s inspection events to a websocket client', async () => {
    const inspector = await createInspector({ mode: 'server', port: 0 });
    started.push(inspector);
    const port = Number(new URL(inspector.url).port);
    expect(inspector.url).toBe(`http://127.0.0.1:${port}`);
    expect(inspector.instructions).toContain(inspector.url);
    const client = await listen(port);
    clients.push(client);
    const actor = createActor(counter, { inspect: inspector.inspect }).start();
    actor.send({ type: 'counter.bump' });
    actor.send({ type: 'counter.bump' });
    await until(() => client.messages.filter((m) => m.type === '@xstate.snapshot').length >= 3);
    expect(client.messages.find((m) => m.type === '@xstate.actor')?.name).toBe('counter');
    expect(client.messages.filter((m) => m.event?.type === 'counter.bump' && m.type === '@xstate.event')).toHaveLength(2);
    expect(client.messages.filter((m) => m.type === '@xstate.snapshot').at(-1)?.snapshot?.context?.n).toBe(2);
    actor.stop();
  });

  it('websocket mode sends to a relay started elsewhere, and refuses when none listens', async () => {
    await expect(createInspector({ mode: 'websocket', port: await closedPort(), connectTimeoutMs: 100 })).rejects.toThrow(/not reachable/);
    const relay = await createInspector({ mode: 'server', port: 0 });
    started.push(relay);
    const port = Number(new URL(relay.url).port);
    const client = await listen(port);
    clients.push(client);
    const sender = await createInspector({ mode: 'websocket', port });
    started.push(sender);
    expect(sender.instructions).toContain(`ws://127.0.0.1:${port}`);
    const actor = createActor(counter, { inspect: sender.inspect }).start();
    actor.send({ type: 'counter.bump' });
    await until(() => client.messages.some((m) => m.type === '@xstate.event' && m.event?.type === 'counter.bump'));
    actor.stop();
  });

  it('rejects a bad port', async () => {
    await expect(createInspector({ mode: 'server', port: 70000 })).rejects.toThrow(RangeError);
  });
});
