#!/usr/bin/env node
// The only top-level try/catch: a TracebenchError prints `error:` and `hint:` and
// exits with its code; anything else is our bug and keeps its stack.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commands } from '../harness/cli/commands.js';
import { ExitCode, TracebenchError } from '../harness/errors.js';
import { exitOnError } from '../harness/cli/fail.js';

async function main(): Promise<void> {
  await yargs(hideBin(process.argv))
    .scriptName('tracebench')
    .usage('$0 <command> [options]')
    .epilogue('How much does a kernel tracer slow a workload down? See README.md.')
    .command(commands)
    .demandCommand(1, 'name a command: bench, image, doctor, parse, report, import, compare, publish')
    .strict()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw new TracebenchError({ message: msg, hint: 'see `tracebench --help`', exitCode: ExitCode.usage });
    })
    .parseAsync();
}

main().catch(exitOnError);
