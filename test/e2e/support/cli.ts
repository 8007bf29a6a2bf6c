/**
 * The built CLI as a child process: `node bin/lead-enrich.js …` with an environment made from
 * scratch (nothing of the test process's configuration leaks in), its output collected, and
 * event-driven waits on its stderr and its exit.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/** The repository root (test/e2e/support → ../../..). */
export const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'lead-enrich.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds dist/ with `npm run build` when it is missing or older than a file under src/. */
export async function ensureBuilt(): Promise<void> {
  let built: number;
  try {
    built = newestMtime(join(ROOT, 'dist'));
  } catch {
    built = 0; // no dist/ yet
  }
  if (built >= newestMtime(join(ROOT, 'src'))) return;
  await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT, timeout: 180_000 });
}

/** How a child ended. */
export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running CLI child. */
export interface CliChild {
  readonly process: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the child has exited. */
  readonly exited: Promise<CliExit>;
  /** Resolves with the first stderr match of `pattern` (now or later); rejects if the child exits first. */
  waitForStderr(pattern: RegExp): Promise<RegExpMatchArray>;
}

/**
 * The child's environment: PATH and HOME only, then `env`. LOG_LEVEL defaults to warn (stderr is
 * not a terminal, so logs go there as JSON lines next to the messages the tests look for).
 */
export function childEnv(env: Record<string, string | undefined>): Record<string, string> {
  const base: Record<string, string | undefined> = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...env };
  return Object.fromEntries(Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Where the child runs and whether the test writes its standard input (`child.process.stdin`). */
export interface SpawnOptions {
  /** Working directory; default the repository root. */
  cwd?: string;
  /** 'pipe' to write the child's stdin; default 'ignore'. */
  stdin?: 'pipe' | 'ignore';
}

/** Spawns `lead-enrich <args>` with exactly the environment of {@link childEnv}. */
export function spawnCli(args: string[], env: Record<string, string | undefined>, options: SpawnOptions = {}): CliChild {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env: childEnv(env), stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'] });
  // A child that stops reading its stdin (interrupted, or refusing the input) is no test failure.
  child.stdin?.on('error', () => undefined);
  let out = '';
  let err = '';
  let closed = false;
  const watchers: Array<() => void> = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    for (const w of [...watchers]) w();
  });
  const exited = new Promise<CliExit>((resolveExit) => {
    child.on('close', (code, signal) => {
      closed = true;
      resolveExit({ code, signal, stdout: out, stderr: err });
      for (const w of [...watchers]) w();
    });
  });
  return {
    process: child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStderr: (pattern) =>
      new Promise((resolveMatch, reject) => {
        const check = (): void => {
          const match = err.match(pattern);
          if (match || closed) {
            watchers.splice(watchers.indexOf(check), 1);
            if (match) resolveMatch(match);
            else reject(new Error(`child exited before stderr matched ${pattern}:\n${err.slice(-2000)}`));
          }
        };
        watchers.push(check);
        check();
      }),
  };
}

/** Runs `lead-enrich <args>` to its end; `stdin`, when given, is written to its standard input. */
export function runCli(args: string[], env: Record<string, string | undefined>, options: Omit<SpawnOptions, 'stdin'> & { stdin?: string } = {}): Promise<CliExit> {
  const { stdin, ...rest } = options;
  const child = spawnCli(args, env, { ...rest, ...(stdin !== undefined ? { stdin: 'pipe' } : {}) });
  if (stdin !== undefined) child.process.stdin?.end(stdin);
  return child.exited;
}
