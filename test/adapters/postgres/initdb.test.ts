/**
 * initdb for the embedded cluster (issue 11, item 8): the superuser password reaches initdb
 * through a file only its owner can read, and a failure to start or run initdb is one line at
 * once, never an unhandled 'error' event or a hang.
 */
import type { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isEmbeddedPostgresError } from '../../../src/adapters/postgres/embeddedError.js';
import { initialiseCluster } from '../../../src/adapters/postgres/initdb.js';
import { serverUser } from '../../../src/adapters/postgres/serverUser.js';

interface Seen {
  file: string;
  args: readonly string[];
  options: { uid?: number; gid?: number; cwd?: string };
  passwordFile: { path: string; mode: number; uid: number; content: string; dirMode: number } | null;
}

/** A spawn that looks at what initdb would get, then behaves as `script` says. */
function fakeSpawn(seen: Seen[], script: (child: EventEmitter & { stderr: PassThrough }) => void): typeof spawn {
  return ((file: string, args: readonly string[], options: Seen['options']) => {
    const pwfile = args.find((a) => a.startsWith('--pwfile='))?.slice('--pwfile='.length);
    seen.push({
      file,
      args,
      options,
      passwordFile: pwfile
        ? { path: pwfile, mode: statSync(pwfile).mode & 0o777, uid: statSync(pwfile).uid, content: readFileSync(pwfile, 'utf8'), dirMode: statSync(path.dirname(pwfile)).mode & 0o777 }
        : null,
    });
    const child = Object.assign(new EventEmitter(), { stdout: new PassThrough(), stderr: new PassThrough() });
    setImmediate(() => script(child));
    return child;
  }) as unknown as typeof spawn;
}

describe('initialiseCluster', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lead-enrich-initdb-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hands initdb the password in a 0600 file owned by the account it runs as, beside the cluster, and removes it', async () => {
    const seen: Seen[] = [];
    const user = await serverUser();
    const clusterDir = path.join(dir, 'pg');
    await initialiseCluster({ initdb: '/bin/initdb', clusterDir, password: 's3cret', user, spawn: fakeSpawn(seen, (c) => c.emit('close', 0, null)) });
    const [call] = seen;
    expect(call?.passwordFile).toMatchObject({ mode: 0o600, uid: user?.uid ?? process.getuid?.(), content: 's3cret\n' });
    expect(path.dirname(call?.passwordFile?.path ?? '')).toBe(dir); // not the world's temporary directory
    expect(existsSync(call?.passwordFile?.path ?? '')).toBe(false);
    expect(call?.args).toEqual(expect.arrayContaining(['--pgdata', clusterDir, '--auth=scram-sha-256', '--username=postgres', '--encoding=UTF8']));
    expect(call?.options).toMatchObject({ cwd: dir, ...(user ? { uid: user.uid, gid: user.gid } : {}) });
    expect(statSync(clusterDir).mode & 0o777).toBe(0o700);
  });

  it('fails at once, in one line, when initdb cannot be started (spawn EACCES), and removes the password file', async () => {
    const seen: Seen[] = [];
    const eacces = Object.assign(new Error('spawn /x/initdb EACCES'), { code: 'EACCES', errno: -13 });
    const error: unknown = await initialiseCluster({ initdb: '/x/initdb', clusterDir: path.join(dir, 'pg'), password: 'p', user: null, spawn: fakeSpawn(seen, (c) => c.emit('error', eacces)) }).catch((e: unknown) => e);
    expect(isEmbeddedPostgresError(error) && error.message).toMatch(/^embedded PostgreSQL: cannot run \/x\/initdb \(EACCES\); set DATABASE_URL/);
    expect(existsSync(seen[0]?.passwordFile?.path ?? '')).toBe(false);
  });

  it('reports the error line initdb wrote when it fails, on one line', async () => {
    const error: unknown = await initialiseCluster({
      initdb: '/bin/initdb',
      clusterDir: path.join(dir, 'pg'),
      password: 'p',
      user: null,
      spawn: fakeSpawn([], (c) => {
        c.stderr.write('The files belonging to this database system will be owned by user "postgres".\ninitdb: error: could not create directory "/x": Permission denied\n');
        setImmediate(() => c.emit('close', 1, null));
      }),
    }).catch((e: unknown) => e);
    expect(isEmbeddedPostgresError(error) && error.message).toBe(
      'embedded PostgreSQL: initdb failed (1): initdb: error: could not create directory "/x": Permission denied; fix what it says, or set DATABASE_URL to a PostgreSQL server',
    );
  });
});
