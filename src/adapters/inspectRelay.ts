import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { platform } from 'node:os';
import { WebSocket, WebSocketServer } from 'ws';

/**
 * The inspector relay: a page that embeds Stately's inspector and a WebSocket that relays the run's
 * inspection events to it. It replaces @statelyai/inspect's `createInspectorServer`, which listens
 * on every interface and takes any page's connection: the events carry the actors' context (company
 * names, domains, contacts). This one listens on 127.0.0.1 only and accepts WebSocket connections
 * without an Origin (the run's own client) or from its own page. The page is the package's bridge
 * (MIT), pointed at 127.0.0.1.
 */

/** Events kept for a page opened late (the package's number). */
const BUFFER = 200;

function bridgeHtml(port: number, inspectorUrl: string): string {
  return `<!DOCTYPE html>
<html>
<head>
  <title>Stately Inspector</title>
  <style>* { margin: 0; padding: 0; } html, body { height: 100%; } iframe { width: 100%; height: 100%; border: none; }</style>
</head>
<body>
  <iframe id="inspector" src="${inspectorUrl}"></iframe>
  <script>
    const iframe = document.getElementById('inspector');
    const buffer = [];
    let connected = false;
    window.addEventListener('message', (e) => {
      if (e.data && e.data.type === '@statelyai.connected') {
        connected = true;
        buffer.forEach((event) => iframe.contentWindow.postMessage(event, '*'));
        buffer.length = 0;
      }
    });
    const ws = new WebSocket('ws://127.0.0.1:${port}');
    ws.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (connected) iframe.contentWindow.postMessage(data, '*');
      else buffer.push(data);
    };
  </script>
</body>
</html>`;
}

/** A running relay. */
export interface InspectorRelay {
  /** The page to open. */
  readonly url: string;
  /** The port it listens on (the one asked for, or the free one the system gave for 0). */
  readonly port: number;
  stop(): void;
}

/** Whether a WebSocket client may connect: no Origin (the run's own client) or the relay's own page. */
export function originAllowed(origin: string | undefined, port: number): boolean {
  return origin === undefined || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
}

/**
 * Starts the relay on 127.0.0.1:`port` (0: a free port, as the system hands it out) and resolves
 * once it listens; with `open`, opens its page in the default browser.
 * @throws {Error} when the port cannot be bound (taken, or not allowed)
 */
export async function startInspectorRelay(options: { port: number; open?: boolean; inspectorUrl?: string }): Promise<InspectorRelay> {
  let port = options.port;
  let html = '';
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  const wss = new WebSocketServer({
    server,
    verifyClient: ({ req }: { req: IncomingMessage }) => originAllowed(req.headers.origin, port),
  });
  const buffer: string[] = [];
  wss.on('connection', (ws) => {
    for (const message of buffer) ws.send(message);
    ws.on('message', (data) => {
      const message = data.toString();
      buffer.push(message);
      if (buffer.length > BUFFER) buffer.shift();
      for (const client of wss.clients) if (client !== ws && client.readyState === WebSocket.OPEN) client.send(message);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new Error(`inspector relay cannot listen on 127.0.0.1:${options.port} (${error.code ?? error.message})`)));
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  server.on('error', () => undefined);
  port = (server.address() as AddressInfo).port;
  html = bridgeHtml(port, options.inspectorUrl ?? 'https://stately.ai/inspect');
  const url = `http://127.0.0.1:${port}`;
  if (options.open) {
    const command = platform() === 'darwin' ? 'open' : platform() === 'win32' ? 'explorer' : 'xdg-open';
    execFile(command, [url], () => undefined);
  }
  return {
    url,
    port,
    stop() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.close();
    },
  };
}
