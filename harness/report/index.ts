// The report format registry and the one call `report` and `bench` make.
// Adding a format is one module plus one line here (STYLE.md §3).
import { summarize } from '../stats/summary.js';
import type { ResultSet } from '../store/store.js';
import * as charts from './charts.js';
import * as csv from './csv.js';
import * as html from './html.js';
import * as text from './text.js';
import type { OutputFile, ReportFormat } from './types.js';

export type { OutputFile, ReportFormat } from './types.js';

export const formats = { text, csv, charts, html } satisfies Record<string, ReportFormat>;
export type FormatName = keyof typeof formats;
export const formatNames = Object.keys(formats) as FormatName[];

/**
 * Every file of the report (relative paths) and the seed-shaped text table
 * for the terminal. Pure apart from vega's async rendering: writes nothing.
 */
export async function buildReport(
  rs: ResultSet,
  opts: { formats?: FormatName[] } = {},
): Promise<{ files: OutputFile[]; text: string }> {
  const summary = summarize(rs);
  const files: OutputFile[] = [];
  for (const name of opts.formats ?? formatNames) files.push(...(await formats[name].render(summary, rs)));
  return { files, text: text.renderText(summary, rs) };
}
