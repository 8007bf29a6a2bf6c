import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { originAllowed, startInspectorRelay, type InspectorRelay } from '../../src/adapters/inspectRelay.js';

/** Opens a ws client with the given Origin; resolves with whether the relay accepted it. */
function opens(port: number, origin?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, origin ? { origin } : {});
    ws.on('open', () => {
      ws.close();
      resolve(true);
    });
    ws.on('error', () => resolve(false));
  });
}

/** Whether a TCP connection to host:port is accepted. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

describe('the inspector relay', () => {
  const relays: InspectorRelay[] = [];
  afterEach(() => relays.splice(0).forEach((r) => r.stop()));

  it('takes the run and its own page, and refuses any other page (the events carry company data)', async () => {
    const relay = await startInspectorRelay({ port: 0 });
    relays.push(relay);
    const { port } = relay;
    expect(await opens(port)).toBe(true);
    expect(await opens(port, `http://127.0.0.1:${port}`)).toBe(true);
    expect(await opens(port, 'https://evil.example')).toBe(false);
    expect(await opens(port, `http://127.0.0.1:${port + 1}`)).toBe(false);
    expect(originAllowed('null', port)).toBe(false);
  });

  it('listens on loopback only', async () => {
    const relay = await startInspectorRelay({ port: 0 });
    relays.push(relay);
    const { port } = relay;
    const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (external) expect(await reachable(external, port)).toBe(false);
    expect(await reachable('127.0.0.1', port)).toBe(true);
  });
});
