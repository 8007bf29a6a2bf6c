import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { serveAccessProblem, serveWindow } from '../../runtime.js';
import { UsageError, cliLogger, intOption } from '../context.js';

/** The options of `lead-enrich serve` as commander gives them. */
interface ServeOptions {
  host: string;
  port: string;
}

/** Validated serve options (exit 2 on misuse, before the database is opened). */
export function planServe(options: ServeOptions): { host: string; port: number } {
  const host = options.host.trim();
  if (host === '' || /[\s/]/.test(host)) throw new UsageError(`--host expects a host name or address, got ${JSON.stringify(options.host)}`);
  return { host, port: intOption('--port', options.port, 0, 65535) as number };
}

/**
 * Registers `lead-enrich serve`: the operators' window over the database until SIGINT/SIGTERM.
 * Any other host than loopback needs SERVE_TOKEN (exit 2 without one); the token is never printed.
 */
export function registerServe(program: Command, setExit: (code: number) => void): void {
  program
    .command('serve')
    .description("serve the operators' window (runs, companies, breakers, queue) and Prometheus /metrics over the database")
    .option('--host <host>', 'address to listen on (another than loopback needs SERVE_TOKEN)', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', '8790')
    .action(async (options: ServeOptions) => {
      const config = loadConfig();
      const plan = planServe(options);
      const problem = serveAccessProblem(config, plan.host);
      if (problem) throw new UsageError(problem);
      const { logger } = cliLogger(config);
      const server = await serveWindow(config, { host: plan.host, port: plan.port, logger });
      process.stderr.write(`lead-enrich serve: ${server.url}/runs over ${server.databaseUrl}${config.serve.token ? ' (SERVE_TOKEN required)' : ''}; Ctrl-C to stop\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          process.stderr.write(`lead-enrich serve: ${signal}: stopping\n`);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await server.close();
      setExit(0);
    });
}
