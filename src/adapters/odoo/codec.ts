import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';

/**
 * The XML-RPC wire format, from the `xmlrpc` package: its serializer for the request and its
 * streaming (SAX) deserializer for the response. The transport is ./rpc.ts's own: the package's
 * client reads a response without any size limit and keeps every chunk a second time for its
 * error objects, so a hostile or broken endpoint could exhaust the process's memory.
 */

const require = createRequire(import.meta.url);

interface DeserializerInstance {
  deserializeMethodResponse(stream: Readable, callback: (error: unknown, value: unknown) => void): void;
}
type DeserializerClass = (new (encoding?: string) => DeserializerInstance) & { prototype: Record<string | symbol, unknown> };

const Serializer = require('xmlrpc/lib/serializer') as { serializeMethodCall(method: string, params: unknown[], encoding?: string): string };
const Deserializer = require('xmlrpc/lib/deserializer') as DeserializerClass;

/**
 * The package's response parser throws from inside its SAX event handlers on a malformed answer
 * (an empty `<fault>`, `<boolean>2</boolean>`, `<int>twelve</int>`): nothing catches that, so one
 * broken proxy or a URL that is not Odoo would end the whole process. Its handlers are wrapped once
 * so that such a throw becomes the parser's own error (the call's callback gets it: `bad_response`).
 */
function guardDeserializer(): void {
  const GUARDED = Symbol.for('lead-enrich.xmlrpc.guarded');
  if (Deserializer.prototype[GUARDED]) return;
  Deserializer.prototype[GUARDED] = true;
  for (const name of ['onOpentag', 'onClosetag', 'onText', 'onCDATA', 'onDone']) {
    const original = Deserializer.prototype[name] as (this: unknown, ...args: unknown[]) => unknown;
    Deserializer.prototype[name] = function guarded(this: { onError(error: unknown): void }, ...args: unknown[]): unknown {
      try {
        return original.apply(this, args);
      } catch (error) {
        this.onError(error instanceof Error ? error : new Error(String(error)));
        return undefined;
      }
    };
  }
}
guardDeserializer();

/**
 * The XML of one method call.
 *
 * @throws what the package's serializer throws for a value XML cannot carry (the caller classifies it)
 */
export function serializeMethodCall(method: string, params: unknown[]): string {
  return Serializer.serializeMethodCall(method, params);
}

/**
 * Parses a method response as it streams in. `callback` is called once with the result, with an
 * XML-RPC fault (`faultCode`, `faultString`), with the parser's error for a body that is not a
 * method response, or with an error the stream emitted.
 */
export function deserializeMethodResponse(stream: Readable, callback: (error: unknown, value: unknown) => void): void {
  new Deserializer('utf8').deserializeMethodResponse(stream, callback);
}
