import { createServer } from 'node:net';

/**
 * A loopback TCP port that nothing listens on: one the system handed out and that was closed again
 * (for a test of "nothing listens there"; servers under test listen on port 0 instead).
 */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
