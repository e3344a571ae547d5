// tracebench baseline accept <run-dir> | baseline show <results-root>
// The accepted baseline is <results-root>/baseline (see harness/publish/baseline.ts).
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode, TracebenchError } from '../errors.js';
import { BASELINE_FILE, BASELINE_HISTORY_FILE, formatBaselineFile, isRunId, parseBaselineFile } from '../publish/baseline.js';
import { readResultSet } from '../store/store.js';

interface AcceptArgs {
  run: string;
  note?: string;
}

interface ShowArgs {
  root: string;
}

const accept: CommandModule<object, AcceptArgs> = {
  command: 'accept <run>',
  describe: 'make <run> (a results/<run-id> directory) the baseline that later runs are compared against',
  builder: (y) =>
    y
      .positional('run', { type: 'string', demandOption: true })
      .option('note', { type: 'string', describe: 'why this run is accepted (recorded in the file and its history)' }) as never,
  handler: async (a) => {
    const dir = resolve(a.run);
    // reading it validates it: a baseline that cannot be read would fail every later night
    const rs = readResultSet(dir);
    const runId = basename(dir);
    if (!isRunId(runId)) throw new TracebenchError({ message: `${dir}: "${runId}" is not usable as a run id`, exitCode: ExitCode.usage });
    if (rs.samples.length === 0) {
      throw new TracebenchError({ message: `${dir} has no samples`, hint: 'accept a run that finished', exitCode: ExitCode.usage });
    }
    const root = dirname(dir);
    const entry = { runId, acceptedAt: new Date().toISOString(), ...(a.note ? { note: a.note } : {}) };
    const file = join(root, BASELINE_FILE);
    // write-then-rename: a half-written baseline would fail the next nightly with a confusing error
    writeFileSync(`${file}.tmp`, formatBaselineFile(entry));
    renameSync(`${file}.tmp`, file);
    appendFileSync(join(root, BASELINE_HISTORY_FILE), JSON.stringify(entry) + '\n');
    process.stdout.write(`baseline of ${root}: ${runId}\n`);
  },
};

const show: CommandModule<object, ShowArgs> = {
  command: 'show <root>',
  describe: 'print the accepted baseline run id of a results root',
  builder: (y) => y.positional('root', { type: 'string', demandOption: true }) as never,
  handler: async (a) => {
    const file = join(a.root, BASELINE_FILE);
    if (!existsSync(file)) {
      throw new TracebenchError({ message: `${a.root} has no accepted baseline (${file} does not exist)`, hint: 'accept one with `tracebench baseline accept <results-root>/<run-id>`', exitCode: ExitCode.usage });
    }
    process.stdout.write(parseBaselineFile(readFileSync(file, 'utf8'), file) + '\n');
  },
};

export const baselineCommand: CommandModule<object, object> = {
  command: 'baseline',
  describe: 'accept or show the baseline run that `compare` and `publish` judge later runs against',
  builder: (y: Argv) => y.command(accept).command(show).demandCommand(1) as never,
  handler: () => {},
};
