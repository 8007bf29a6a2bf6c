import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A loopback URL on which nothing listens (a port bound then released): connecting is refused. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

/** Timeout signals the test fires itself (as AbortSignal.timeout would, with a TimeoutError reason). */
export function manualTimeouts(): { factory: (ms: number) => AbortSignal; fireAll(): void; created: number[] } {
  const controllers: AbortController[] = [];
  const created: number[] = [];
  return {
    created,
    factory(ms) {
      created.push(ms);
      const controller = new AbortController();
      controllers.push(controller);
      return controller.signal;
    },
    fireAll() {
      for (const c of controllers.splice(0)) c.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    },
  };
}
