import type { Command } from 'commander';
import type { AnyStateMachine } from 'xstate';
import { breakerMachine } from '../../machines/breaker.machine.js';
import { enrichmentMachine } from '../../machines/enrichment.machine.js';
import { runMachine } from '../../machines/run.machine.js';
import { machineToJson, machinesMarkdown } from '../machinesExport.js';
import { UsageError } from '../context.js';

/** Every machine of the product, by name, in the order docs/machines.md lists them. */
export const MACHINES: Record<string, AnyStateMachine> = {
  breaker: breakerMachine,
  enrichment: enrichmentMachine,
  run: runMachine,
};

/** Registers `lead-enrich machines [--format mermaid|json]`. */
export function registerMachines(program: Command, setExit: (code: number) => void): void {
  program
    .command('machines')
    .description('export the machine definitions: Mermaid (docs/machines.md) or JSON for the Stately editor')
    .option('--format <format>', 'mermaid or json', 'mermaid')
    .action((options: { format: string }) => {
      if (options.format === 'json') {
        const json = Object.fromEntries(Object.entries(MACHINES).map(([name, m]) => [name, machineToJson(m)]));
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      } else if (options.format === 'mermaid') {
        process.stdout.write(machinesMarkdown(MACHINES));
      } else {
        throw new UsageError(`--format expects mermaid or json, got ${JSON.stringify(options.format)}`);
      }
      setExit(0);
    });
}
