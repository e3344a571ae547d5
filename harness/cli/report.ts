// tracebench report <run-dir> [--out DIR]: summarize a result directory and
// write the text table, CSVs, charts (SVG, PNG) and index.html. The only
// report code that touches the filesystem or the terminal.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { PROJECT_ROOT } from '../paths.js';
import { buildReport, formatNames, type FormatName } from '../report/index.js';
import { readResultSet } from '../store/store.js';
import { resolveRunDir } from './compare.js';

interface Args {
  runDir: string;
  out?: string;
  format?: string[];
}

/** writes every report file under outDir; returns their absolute paths and the text table */
export async function writeReport(runDir: string, outDir?: string, formats?: FormatName[]): Promise<{ reportDir: string; files: string[]; text: string }> {
  const rs = readResultSet(runDir);
  const reportDir = resolve(outDir ?? join(PROJECT_ROOT, 'reports', rs.manifest.runId));
  const report = await buildReport(rs, { formats });
  const files: string[] = [];
  for (const f of report.files) {
    const p = join(reportDir, f.path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, f.content);
    files.push(p);
  }
  return { reportDir, files, text: report.text };
}

export const reportCommand: CommandModule<object, Args> = {
  command: 'report <run-dir>',
  describe: 'write the slowdown table, CSVs, SVG/PNG charts and a self-contained index.html for a run',
  builder: (y) =>
    y
      .positional('run-dir', { type: 'string', demandOption: true, describe: 'results/<run-id> directory (from bench or import)' })
      .option('out', { type: 'string', describe: 'report folder (default reports/<run-id>/)' })
      .option('format', { type: 'string', array: true, choices: formatNames, describe: 'only these formats (default: all)' }) as never,
  handler: async (a) => {
    const { files, text } = await writeReport(resolveRunDir(a.runDir), a.out, a.format as FormatName[] | undefined);
    process.stdout.write(text);
    process.stdout.write('\nwrote:\n' + files.map((f) => `  ${f}\n`).join(''));
  },
};
