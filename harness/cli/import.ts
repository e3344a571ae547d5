// tracebench import <file.csv> --out <run-dir>: numbers measured elsewhere
// become a result directory that `report` and `compare` read.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { ExitCode, TracebenchError } from '../errors.js';
import { importCsv } from '../import.js';
import { appendSample, MANIFEST, SAMPLES, writeManifest } from '../store/store.js';
import { toolVersion } from '../version.js';

interface Args {
  file: string;
  out: string;
  runId?: string;
  kernel?: string;
  accelerator?: string;
  note: string[];
  force: boolean;
}

export const importCommand: CommandModule<object, Args> = {
  command: 'import <file>',
  describe: 'turn a CSV (workload,config,iteration,metric,value,unit) into a result directory',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'CSV file; see docs/import.md' })
      .option('out', { type: 'string', demandOption: true, describe: 'result directory to create (e.g. results/seed-2009)' })
      .option('run-id', { type: 'string', describe: 'run id (default: the --out folder name)' })
      .option('kernel', { type: 'string', describe: 'kernel the numbers were measured on (default "unknown")' })
      .option('accelerator', { type: 'string', describe: 'kvm, tcg, bare-metal ... (default "unknown")' })
      .option('note', { type: 'string', array: true, default: [], describe: 'a note for the manifest (hardware, versions); repeatable' })
      .option('force', { type: 'boolean', default: false, describe: 'replace an existing result directory' }) as never,
  handler: (a) => {
    if (!existsSync(a.file)) throw new TracebenchError({ message: `${a.file}: no such file`, exitCode: ExitCode.usage });
    const out = resolve(a.out);
    if (existsSync(join(out, MANIFEST)) && !a.force) {
      throw new TracebenchError({ message: `${out} already holds a result set`, hint: 'choose another --out, or pass --force to replace it', exitCode: ExitCode.usage });
    }
    const tool = toolVersion();
    const { manifest, samples } = importCsv(readFileSync(a.file, 'utf8'), {
      runId: a.runId ?? basename(out, extname(out)),
      importedAt: new Date().toISOString(),
      toolVersion: tool.version,
      gitSha: tool.gitSha,
      file: a.file,
      kernel: a.kernel,
      accelerator: a.accelerator,
      notes: a.note,
    });
    writeManifest(out, manifest);
    // --force replaces the old samples: appendSample only appends
    writeFileSync(join(out, SAMPLES), '');
    for (const s of samples) appendSample(out, s);
    process.stdout.write(`imported ${samples.length} samples into ${out}\nnext: tracebench report ${a.out}\n`);
  },
};
