// tracebench publish <results-root> --out <site-dir>: the static site of all runs.
// This module does the I/O: it reads the results root and the previous site.json,
// and writes what harness/publish/site.ts returns. It never deletes a file, so
// earlier runs' pages survive their result directories being pruned.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { ExitCode, TracebenchError } from '../errors.js';
import { loadThresholds } from './compare.js';
import { BASELINE_FILE, BASELINE_HISTORY_FILE, parseBaselineFile, parseBaselineHistory } from '../publish/baseline.js';
import { parseSiteIndex, SITE_INDEX_FILE } from '../publish/site-index.js';
import { buildSite, type SiteBuild } from '../publish/site.js';
import { buildReport } from '../report/index.js';
import { MANIFEST, readResultSet, type ResultSet } from '../store/store.js';

interface Args {
  root: string;
  out: string;
  thresholds?: string;
}

function readIfExists(path: string): string | null {
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

/** Every directory of the root holding a manifest.json is a run; anything else (site/, logs) is ignored. */
function readRuns(root: string): ResultSet[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, MANIFEST)))
    .map((d) => readResultSet(join(root, d.name)));
}

/** Build the site of `resultsRoot` into `outDir`, incrementally. */
export async function publishSite(resultsRoot: string, outDir: string, thresholdsPath?: string): Promise<SiteBuild> {
  const root = resolve(resultsRoot);
  const out = resolve(outDir);
  if (!existsSync(root)) throw new TracebenchError({ message: `${resultsRoot}: no such directory`, hint: 'pass the folder that holds the results/<run-id> directories', exitCode: ExitCode.usage });
  const runs = readRuns(root);
  if (runs.length === 0 && !existsSync(join(out, SITE_INDEX_FILE))) {
    throw new TracebenchError({ message: `${resultsRoot} holds no result directory (no */manifest.json)`, exitCode: ExitCode.usage });
  }
  const baselineFile = join(root, BASELINE_FILE);
  const baselineText = readIfExists(baselineFile);
  const build = await buildSite({
    runs,
    previous: parseSiteIndex(readIfExists(join(out, SITE_INDEX_FILE)), join(out, SITE_INDEX_FILE)),
    pagePresent: (p) => existsSync(join(out, p)),
    baseline: baselineText === null ? null : parseBaselineFile(baselineText, baselineFile),
    history: parseBaselineHistory(readIfExists(join(root, BASELINE_HISTORY_FILE)) ?? ''),
    thresholds: loadThresholds(thresholdsPath),
    now: new Date().toISOString(),
    renderReport: async (rs) => (await buildReport(rs)).files,
  });
  for (const f of build.files) {
    const path = join(out, f.path);
    mkdirSync(dirname(path), { recursive: true });
    // write-then-rename: a reader (or a Pages upload) never sees half a page
    writeFileSync(`${path}.tmp`, f.content);
    renameSync(`${path}.tmp`, path);
  }
  return build;
}

export const publishCommand: CommandModule<object, Args> = {
  command: 'publish <root>',
  describe: 'build or update the static site (index of runs, reports, trend charts) of a results folder',
  builder: (y) =>
    y
      .positional('root', { type: 'string', demandOption: true, describe: 'results root: the folder holding results/<run-id> directories' })
      .option('out', { type: 'string', demandOption: true, describe: 'site directory (created; existing pages are kept)' })
      .option('thresholds', { type: 'string', describe: 'thresholds file (default configs/thresholds.yaml)' }) as never,
  handler: async (a) => {
    const build = await publishSite(a.root, a.out, a.thresholds);
    const regressed = build.index.runs.filter((r) => r.comparison.status === 'compared' && r.comparison.regressions > 0);
    process.stdout.write(
      `site: ${join(resolve(a.out), 'index.html')}\n` +
        `runs: ${build.index.runs.length} (${build.rebuilt.length} updated${build.rebuilt.length ? `: ${build.rebuilt.join(', ')}` : ''})\n` +
        (regressed.length ? `runs with regressions: ${regressed.map((r) => r.runId).join(', ')}\n` : ''),
    );
  },
};
