// The CLI entry: argv in, a command run. bin/tracebench.ts calls it with the real
// world; a test calls it with a FakeMachine and fixed images (BenchOverrides).
import yargs from 'yargs';
import { ExitCode, TracebenchError } from '../errors.js';
import type { BenchOverrides } from './bench.js';
import { commands } from './commands.js';

export async function runCli(argv: string[], overrides: { bench?: BenchOverrides } = {}): Promise<void> {
  await yargs(argv)
    .scriptName('tracebench')
    .usage('$0 <command> [options]')
    .epilogue('How much does a kernel tracer slow a workload down? See README.md.')
    .command(commands(overrides.bench))
    .demandCommand(1, 'name a command: bench, image, doctor, lab, lava, parse, report, import, compare, publish')
    .strict()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw new TracebenchError({ message: msg, hint: 'see `tracebench --help`', exitCode: ExitCode.usage });
    })
    .exitProcess(false)
    .parseAsync();
}
