// tracebench parse <workload> <file> [--json]
import { readFileSync, existsSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { ExitCode, TracebenchError } from '../errors.js';
import type { Workload } from '../types.js';
import { workloads } from '../../workloads/index.js';

interface Args {
  workload: string;
  file: string;
  json: boolean;
}

export const parseCommand: CommandModule<object, Args> = {
  command: 'parse <workload> <file>',
  describe: 'parse a raw workload output file (from anywhere) and print its metrics',
  builder: (y) =>
    y
      .positional('workload', { type: 'string', choices: Object.keys(workloads), demandOption: true })
      .positional('file', { type: 'string', demandOption: true, describe: 'raw stdout of the workload' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' }) as never,
  handler: (a) => {
    if (!existsSync(a.file)) throw new TracebenchError({ message: `${a.file}: no such file`, exitCode: ExitCode.usage });
    const wl = (workloads as Record<string, Workload>)[a.workload];
    let metrics;
    try {
      // warnings (e.g. a malformed op table left out) do not stop the figure: show them
      metrics = wl.parse(readFileSync(a.file, 'utf8'), (w) => process.stderr.write(`warning: ${a.file}: ${w}\n`));
    } catch (e) {
      if (e instanceof TracebenchError) throw new TracebenchError({ message: `${a.file}: ${e.message}`, exitCode: ExitCode.guest, cause: e });
      throw e;
    }
    if (a.json) {
      process.stdout.write(JSON.stringify({ workload: a.workload, file: a.file, primary: wl.primaryMetric, metrics }, null, 2) + '\n');
      return;
    }
    const w = Math.max(...metrics.map((m) => m.name.length));
    for (const m of metrics) {
      process.stdout.write(`${m.name.padEnd(w)}  ${String(m.value).padStart(14)} ${m.unit}${m.name === wl.primaryMetric ? '  (primary)' : ''}\n`);
    }
  },
};
