import { connect } from 'node:net';
import { createWebSocketInspector } from '@statelyai/inspect';
import type { InspectionEvent, Observer } from 'xstate';
import { startInspectorRelay } from './inspectRelay.js';

/**
 * `--inspect`: attach the Stately inspector (@statelyai/inspect 0.7) to every actor of a run.
 * - `websocket`: send inspection events to a relay already listening on ws://127.0.0.1:<port>
 *   (another process started with `server`, or `npx @statelyai/inspect`-style tooling).
 * - `server`: start our local relay (HTTP + WebSocket on 127.0.0.1:<port>, src/adapters/inspectRelay.ts)
 *   and send to it; open http://127.0.0.1:<port> in a browser to see the actors.
 * - `browser`: as `server`, and also open that page in the default browser (xdg-open / open).
 * The package's own `createBrowserInspector` needs a DOM `window` and does nothing in Node, so
 * every mode goes through the WebSocket relay. See docs/inspect.md.
 */
export type InspectMode = 'websocket' | 'server' | 'browser';

/** Options of {@link createInspector}. */
export interface CreateInspectorOptions {
  /** Where inspection events go; see {@link InspectMode}. */
  mode: InspectMode;
  /** Relay port on 127.0.0.1. Default 8080 (the package's default); 0 in `server`/`browser` mode: a free one. */
  port?: number;
  /** How long to wait for the relay to accept connections, in milliseconds. Default 2000. */
  connectTimeoutMs?: number;
}

/** A started inspector: pass `inspect` to `createActor(logic, { inspect })`; `stop()` when the run ends. */
export interface RunInspector {
  inspect: Observer<InspectionEvent>;
  /** The page that shows the actors (needs a browser with access to stately.ai). */
  url: string;
  /** One or two lines to print for the user. */
  instructions: string;
  /** Closes the WebSocket connection and, in `server`/`browser` mode, the relay. Idempotent. */
  stop(): void;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() >= deadline) throw new Error(`inspector relay not reachable on port ${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Starts an inspector in the given mode. The WebSocket connection is opened only once the relay
 * accepts connections, because the package's client retries a failed connection every 5 s and a
 * pending retry survives `stop()`.
 * @throws {Error} in `websocket` mode when nothing listens on the port within `connectTimeoutMs`;
 * otherwise when the port is taken or cannot be bound.
 */
export async function createInspector(options: CreateInspectorOptions): Promise<RunInspector> {
  const asked = options.port ?? 8080;
  const min = options.mode === 'websocket' ? 1 : 0;
  if (!Number.isInteger(asked) || asked < min || asked > 65535) throw new RangeError(`inspector port must be ${min}..65535, got ${asked}`);
  const server = options.mode === 'websocket' ? null : await startInspectorRelay({ port: asked, open: options.mode === 'browser' });
  const port = server?.port ?? asked;
  if (!server) await waitForPort(port, options.connectTimeoutMs ?? 2000);
  const inspector = createWebSocketInspector({ url: `ws://127.0.0.1:${port}` });
  const url = `http://127.0.0.1:${port}`;
  const instructions =
    options.mode === 'websocket'
      ? `inspector: sending actor events to the relay at ws://127.0.0.1:${port}`
      : `inspector: open ${url} in a browser to watch the actors${options.mode === 'browser' ? ' (opening it now)' : ''}`;
  let stopped = false;
  return {
    inspect: inspector.inspect,
    url,
    instructions,
    stop() {
      if (stopped) return;
      stopped = true;
      inspector.stop();
      server?.stop();
    },
  };
}
