/**
 * Opening run input exactly once: a regular file, a named pipe (FIFO) or standard input (`-`).
 * A FIFO is opened with O_NONBLOCK and read through the event loop (`net.Socket`, as Node reads a
 * piped stdin): a plain open blocks until a writer appears, and `fs.open`/`createReadStream` would
 * block a libuv pool thread for that long, which also hangs `process.exit` (issue 11, item 3).
 */
import { constants, createReadStream, close as closeFd, fstat, open } from 'node:fs';
import { Socket } from 'node:net';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { InputError } from './error.js';

import type { InputKind } from '../../domain/input.js';

export type { InputKind };

/** An opened input: its kind, its absolute path (`-` for standard input) and its bytes, read once. */
export interface ByteSource {
  kind: InputKind;
  path: string;
  /** The bytes; iterate once. End quietly when the signal aborts or `close` is called (the stream is destroyed). */
  chunks: AsyncIterable<Buffer>;
  /** Destroys the stream (also done when the chunks end or their iteration stops). Idempotent. */
  close(): void;
}

const openAsync = promisify(open);
const fstatAsync = promisify(fstat);

const codeOf = (error: unknown): string | undefined => (error as { code?: string }).code;

/**
 * The stream's chunks as Buffers, and a `close` that destroys it. The abort listener is attached
 * now, not when iteration starts, so an input that is never read is still closed on abort.
 */
function chunksOf(stream: Readable, label: string, signal: AbortSignal | undefined): Pick<ByteSource, 'chunks' | 'close'> {
  let closed = false;
  const close = (): void => {
    closed = true;
    stream.destroy();
  };
  signal?.addEventListener('abort', close, { once: true });
  if (signal?.aborted) close();
  const chunks = (async function* () {
    try {
      for await (const chunk of stream) yield typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    } catch (error) {
      if (closed) return; // destroyed on purpose (abort, close): the input simply ends here
      const code = codeOf(error);
      throw new InputError(`cannot read input ${label}${code ? ` (${code})` : ''}`, { cause: error });
    } finally {
      signal?.removeEventListener('abort', close);
      close();
    }
  })();
  return { chunks, close };
}

/**
 * Opens `path` once, without ever blocking the event loop or a pool thread on a FIFO.
 * @param path a file or FIFO path (resolved against the working directory), or `-` for standard input.
 * @param options.signal aborting it destroys the stream: a pending read (a FIFO without writer, a
 *   silent stdin) ends at once and the chunks end.
 * @throws {InputError} when the path cannot be opened or is neither a regular file nor a FIFO.
 */
export async function openSource(path: string, options: { signal?: AbortSignal; highWaterMark?: number } = {}): Promise<ByteSource> {
  const { signal } = options;
  if (path === '-') return { kind: 'stdin', path: '-', ...chunksOf(process.stdin, 'standard input', signal) };
  const absolute = resolve(path);
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO opens at once, writer or not; on a regular file it changes nothing.
    fd = await openAsync(absolute, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = codeOf(error);
    throw new InputError(`cannot read input ${path}${code ? ` (${code})` : ''}`, { cause: error });
  }
  const stats = await fstatAsync(fd).catch((error: unknown) => {
    closeFd(fd, () => undefined);
    throw new InputError(`cannot read input ${path}`, { cause: error });
  });
  if (stats.isFIFO()) {
    // The socket wraps the fd in libuv's pipe handle: reads wait in epoll, a destroy closes it.
    const socket = new Socket({ fd, readable: true, writable: false });
    return { kind: 'fifo', path: absolute, ...chunksOf(socket, path, signal) };
  }
  if (stats.isFile()) {
    const stream = createReadStream('', { fd, autoClose: true, highWaterMark: options.highWaterMark ?? 64 * 1024 });
    return { kind: 'file', path: absolute, ...chunksOf(stream, path, signal) };
  }
  closeFd(fd, () => undefined);
  throw new InputError(`cannot read input ${path}: not a regular file or a named pipe (for standard input give --input -)`);
}
