import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 between pg and PostgreSQL that can cut every connection: now, or the
 * moment the server acknowledges a COMMIT or a sink batch's statement (which commits alone), before
 * the client hears of it (the lost-acknowledgement case: the batch is committed, yet the client sees
 * a broken connection and retries it).
 */
export interface CuttingProxy {
  port: number;
  /** Destroys every open connection, both sides. Returns how many were cut. */
  cutAll(): number;
  /** Arms a cut of every connection right after the next COMMIT or sink batch is answered. Resolves with the count cut. */
  cutAfterNextCommit(): Promise<number>;
  /** While on, every new connection is closed at once (the database looks down); open ones are left as they are. */
  refuse(on: boolean): void;
  connections(): number;
  close(): Promise<void>;
}

export async function startCuttingProxy(target: { host: string; port: number }): Promise<CuttingProxy> {
  const pairs = new Set<{ client: net.Socket; server: net.Socket }>();
  let armed: ((n: number) => void) | null = null;
  let refusing = false;
  const cutAll = (): number => {
    const n = pairs.size;
    for (const p of pairs) {
      p.client.destroy();
      p.server.destroy();
    }
    pairs.clear();
    return n;
  };
  const proxy = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const server = net.connect(target.port, target.host);
    const pair = { client, server };
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on('error', drop).on('close', drop);
    server.on('error', drop).on('close', drop);
    let swallow: ((n: number) => void) | null = null;
    client.on('data', (chunk: Buffer) => {
      server.write(chunk);
      if (armed && (chunk.includes('COMMIT') || chunk.includes('INSERT INTO sink_batches'))) {
        swallow = armed;
        armed = null;
      }
    });
    server.on('data', (chunk: Buffer) => {
      if (swallow) {
        // The server has answered the COMMIT (it is durable); the client never hears of it.
        const resolve = swallow;
        swallow = null;
        resolve(cutAll());
        return;
      }
      client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address() as net.AddressInfo;
  return {
    port: address.port,
    cutAll,
    cutAfterNextCommit: () => new Promise<number>((resolve) => (armed = resolve)),
    refuse: (on) => void (refusing = on),
    connections: () => pairs.size,
    close: () =>
      new Promise<void>((resolve) => {
        cutAll();
        proxy.close(() => resolve());
      }),
  };
}
