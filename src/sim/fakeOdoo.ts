import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { accessDenied, missingDatabase, unknownModel, validationError, type SimFault } from './odoo/faults.js';
import { PartnerTable } from './odoo/partners.js';
import { dumpsFault, dumpsResult, readMethodCall, type WireValue } from './odoo/wire.js';

/**
 * A fake Odoo on 127.0.0.1 speaking real XML-RPC over HTTP (/xmlrpc/2/common and /xmlrpc/2/object),
 * with Odoo's wire format and fault texts (./odoo/wire.ts, ./odoo/faults.ts), an in-memory
 * res.partner per database, per-database switchable behaviours and a count of every call.
 * Used by the demo and the tests; never by production code.
 */

/** How a database (or, with {@link FakeOdoo.setDown}, the whole server) misbehaves. */
export interface FakeOdooBehaviour {
  /** Fields its res.partner lacks: writing one faults like Odoo (code 1 ValueError traceback). E.g. `['autopost_bills']`. */
  unknownFields?: string[];
  /** Every create and write faults with a ValidationError (code 2). */
  rejectWrites?: boolean;
  /** Creates and writes whose `name` is one of these fault with a ValidationError (code 2). */
  rejectNames?: string[];
  /** Calls naming this database fault with `database "…" does not exist` (code 1). */
  missing?: boolean;
  /** authenticate answers false. */
  refuseLogin?: boolean;
  /** Answer after this many milliseconds (real time). */
  delayMs?: number;
  /** `reset`: destroy the connection; `hang`: never answer; `html`: a proxy's 502 HTML page. */
  down?: 'reset' | 'hang' | 'html';
  /**
   * The next this-many calls of these object methods (e.g. `{ create: 1 }`) are carried out, then
   * the connection is destroyed without an answer: a commit whose acknowledgement is lost.
   */
  loseReplies?: Record<string, number>;
}

/** A database of the fake: its one user and its behaviour. */
export interface FakeOdooDatabase {
  login: string;
  apiKey: string;
  uid: number;
  behaviour: FakeOdooBehaviour;
  partners: PartnerTable;
}

/** One call as the fake received it. */
export interface FakeOdooCall {
  service: string;
  /** `version`, `authenticate`, or for object calls the model method (`create`, `search`, …). */
  method: string;
  db: string | null;
}

/** A running fake Odoo. */
export interface FakeOdoo {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Adds (or replaces) a database with one user. */
  addDatabase(name: string, user: { login: string; apiKey: string; uid?: number }, behaviour?: FakeOdooBehaviour): FakeOdooDatabase;
  /** Changes a database's behaviour (merged into the current one). */
  setBehaviour(name: string, behaviour: FakeOdooBehaviour): void;
  /** Server-wide misbehaviour for every request, or null to restore. */
  setDown(mode: FakeOdooBehaviour['down'] | null): void;
  /** The database's partners (throws when unknown). */
  database(name: string): FakeOdooDatabase;
  /** Every call received, in order. */
  readonly calls: readonly FakeOdooCall[];
  /** Calls received naming `db`, by service: `common.authenticate`, `object.create`, … */
  callCounts(db: string): Record<string, number>;
  /** Object (execute_kw) calls received naming `db`. */
  objectCalls(db: string): number;
  /** Resolves with the next call the fake receives (after its body is read, before it answers). */
  nextCall(): Promise<FakeOdooCall>;
  /** Resolves when the next client connection closes (e.g. a client aborting a hanging call). */
  nextConnectionClose(): Promise<void>;
  /** Stops listening and destroys open connections (hanging requests included). */
  close(): Promise<void>;
}

/** Starts a fake Odoo on an ephemeral loopback port (or `port`). */
export async function startFakeOdoo(options: { port?: number } = {}): Promise<FakeOdoo> {
  const databases = new Map<string, FakeOdooDatabase>();
  const calls: FakeOdooCall[] = [];
  const sockets = new Set<Socket>();
  let serverDown: FakeOdooBehaviour['down'] | null = null;
  const waiters: Array<(call: FakeOdooCall) => void> = [];
  const closeWaiters: Array<() => void> = [];

  const misbehave = (mode: NonNullable<FakeOdooBehaviour['down']>, req: IncomingMessage, res: ServerResponse): void => {
    if (mode === 'reset') req.socket.destroy();
    else if (mode === 'html') {
      res.writeHead(502, { 'Content-Type': 'text/html' });
      res.end('<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n');
    }
    // 'hang': never answer; close() destroys the socket.
  };

  const dispatch = (service: string, method: string, params: unknown[], db: FakeOdooDatabase | undefined, dbName: string | null): WireValue => {
    if (service === 'common' && method === 'version') {
      return { server_version: '18.0', server_version_info: [18, 0, 0, 'final', 0, ''], server_serie: '18.0', protocol_version: 1 };
    }
    if (dbName !== null && (!db || db.behaviour.missing)) throw missingDatabase(dbName);
    if (!db) throw validationError('no database');
    if (service === 'common' && method === 'authenticate') {
      const [, login, key] = params;
      return !db.behaviour.refuseLogin && login === db.login && key === db.apiKey ? db.uid : false;
    }
    if (service === 'object' && method === 'execute_kw') {
      const [, uid, key, model, modelMethod, args, kwargs] = params;
      if (uid !== db.uid || key !== db.apiKey) throw accessDenied();
      if (model !== 'res.partner') throw unknownModel(String(model));
      const isWrite = modelMethod === 'create' || modelMethod === 'write';
      const vals = (Array.isArray(args) ? (modelMethod === 'create' ? args[0] : args[1]) : undefined) as { name?: unknown } | undefined;
      const rejectedName = isWrite && typeof vals?.name === 'string' && (db.behaviour.rejectNames ?? []).includes(vals.name);
      if (isWrite && (db.behaviour.rejectWrites || rejectedName)) {
        throw validationError('The operation cannot be completed: the record was rejected by a validation rule of this database.');
      }
      return db.partners.execute(String(modelMethod), Array.isArray(args) ? args : [], (kwargs ?? {}) as Record<string, unknown>, db.uid);
    }
    throw validationError(`unknown method ${service}.${method}`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const service = /^\/xmlrpc\/2\/(common|object)$/.exec(req.url ?? '')?.[1];
    if (req.method !== 'POST' || !service) {
      res.writeHead(404, { 'Content-Type': 'text/html' }).end('<h1>Not Found</h1>');
      return;
    }
    if (serverDown) {
      const received: FakeOdooCall = { service, method: 'unread', db: null };
      calls.push(received);
      for (const wake of waiters.splice(0)) wake(received);
      return misbehave(serverDown, req, res);
    }
    let call: { method: string; params: unknown[] };
    try {
      call = await readMethodCall(req);
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/html' }).end('<h1>Bad Request</h1>');
      return;
    }
    const dbName = call.method === 'version' ? null : String(call.params[0]);
    const modelMethod = service === 'object' ? String(call.params[4]) : call.method;
    const received: FakeOdooCall = { service, method: modelMethod, db: dbName };
    calls.push(received);
    for (const wake of waiters.splice(0)) wake(received);
    const db = dbName === null ? undefined : databases.get(dbName);
    if (db?.behaviour.delayMs) await new Promise((r) => setTimeout(r, db.behaviour.delayMs));
    if (db?.behaviour.down) return misbehave(db.behaviour.down, req, res);
    let body: string;
    try {
      body = dumpsResult(dispatch(service, call.method, call.params, db, dbName));
      const lose = db?.behaviour.loseReplies;
      if (service === 'object' && lose && (lose[modelMethod] ?? 0) > 0) {
        lose[modelMethod] = (lose[modelMethod] ?? 0) - 1;
        req.socket.destroy();
        return;
      }
    } catch (error) {
      const fault = error as SimFault;
      body = dumpsFault({ faultCode: fault.faultCode ?? 1, faultString: fault.faultString ?? String(error) });
    }
    if (!res.destroyed) res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' }).end(body);
  };

  const server = createServer((req, res) => void handle(req, res));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      for (const wake of closeWaiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const byDb = (db: string) => calls.filter((c) => c.db === db);
  const database = (name: string): FakeOdooDatabase => {
    const db = databases.get(name);
    if (!db) throw new Error(`fake Odoo has no database ${name}`);
    return db;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    addDatabase(name, user, behaviour = {}) {
      const db: FakeOdooDatabase = {
        login: user.login,
        apiKey: user.apiKey,
        uid: user.uid ?? 2,
        behaviour: { ...behaviour },
        partners: new PartnerTable({ unknownFields: behaviour.unknownFields ?? [] }),
      };
      databases.set(name, db);
      return db;
    },
    setBehaviour(name, behaviour) {
      const db = database(name);
      db.behaviour = { ...db.behaviour, ...behaviour };
      if (behaviour.unknownFields) db.partners.setUnknownFields(behaviour.unknownFields);
    },
    setDown(mode) {
      serverDown = mode ?? null;
    },
    database,
    callCounts(db) {
      const counts: Record<string, number> = {};
      for (const c of byDb(db)) counts[`${c.service}.${c.method}`] = (counts[`${c.service}.${c.method}`] ?? 0) + 1;
      return counts;
    },
    nextCall() {
      return new Promise((resolve) => waiters.push(resolve));
    },
    nextConnectionClose() {
      return new Promise((resolve) => closeWaiters.push(resolve));
    },
    objectCalls(db) {
      return byDb(db).filter((c) => c.service === 'object').length;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
