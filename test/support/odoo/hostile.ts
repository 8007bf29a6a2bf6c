import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a hostile "Odoo" answers every XML-RPC call with. */
export interface HostileOptions {
  /** Body bytes after the XML-RPC preamble; Infinity streams for ever (until the client goes). */
  bodyBytes: number;
  /** A Content-Length header to send (whatever the body really is); none means chunked. */
  declaredLength?: number;
}

/** A loopback server that answers a huge or never-ending method response, as fast as the client reads it. */
export interface HostileOdoo {
  url: string;
  /** Body bytes the server managed to hand to its socket so far. */
  written(): number;
  /** Resolves once a client connection has closed (the client destroyed it), at once if one already has. */
  closed: Promise<void>;
  close(): Promise<void>;
}

const PREAMBLE = '<?xml version="1.0"?><methodResponse><params><param><value><string>';
const CHUNK = Buffer.alloc(64 * 1024, 'A');

/** Starts a {@link HostileOdoo} on 127.0.0.1 (ephemeral port). */
export async function startHostileOdoo(options: HostileOptions): Promise<HostileOdoo> {
  let written = 0;
  let resolveClosed = (): void => undefined;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const server: Server = createServer((req, res) => {
    req.resume();
    res.socket?.once('close', () => resolveClosed());
    res.writeHead(200, { 'Content-Type': 'text/xml', ...(options.declaredLength === undefined ? {} : { 'Content-Length': String(options.declaredLength) }) });
    res.write(PREAMBLE);
    let left = options.bodyBytes;
    const pump = (): void => {
      // Backpressure: write while the socket takes it, resume on 'drain'; stop when the client is gone.
      while (left > 0 && !res.destroyed) {
        const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
        left -= chunk.length;
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed && options.declaredLength === undefined) res.end('</string></value></param></params></methodResponse>');
    };
    res.on('error', () => undefined);
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    written: () => written,
    closed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
