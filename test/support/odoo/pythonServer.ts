import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** The Python stand-in's fixed credentials (see py_odoo_server.py). */
export const PY = { db: 'demo', login: 'bot@example.com', apiKey: 'py-secret-key-123', uid: 7 } as const;

/** A running py_odoo_server.py on an ephemeral loopback port. */
export interface PythonOdoo {
  url: string;
  stop(): Promise<void>;
}

/** Spawns the Python XML-RPC server and waits for the port it prints. */
export async function startPythonOdoo(): Promise<PythonOdoo> {
  const script = fileURLToPath(new URL('./py_odoo_server.py', import.meta.url));
  const child: ChildProcess = spawn('python3', ['-u', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`python server exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const line = buffered.split('\n')[0];
      if (buffered.includes('\n') && line) resolve(Number(line.trim()));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
