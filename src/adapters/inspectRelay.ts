import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
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
  stop(): void;
}

/** Whether a WebSocket client may connect: no Origin (not a browser) or the relay's own page. */
export function originAllowed(origin: string | undefined, port: number): boolean {
  return origin === undefined || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
}

/**
 * Starts the relay on 127.0.0.1:`port`; with `open`, opens its page in the default browser.
 * Binding errors (port taken) surface as the relay not becoming reachable.
 */
export function startInspectorRelay(options: { port: number; open?: boolean; inspectorUrl?: string }): InspectorRelay {
  const { port } = options;
  const html = bridgeHtml(port, options.inspectorUrl ?? 'https://stately.ai/inspect');
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
  server.on('error', () => undefined); // a taken port shows as an unreachable relay (createInspector says so)
  const url = `http://127.0.0.1:${port}`;
  server.listen(port, '127.0.0.1', () => {
    if (!options.open) return;
    const command = platform() === 'darwin' ? 'open' : platform() === 'win32' ? 'explorer' : 'xdg-open';
    execFile(command, [url], () => undefined);
  });
  return {
    url,
    stop() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.close();
    },
  };
}
