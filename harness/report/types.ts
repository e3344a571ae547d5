// What a report format returns: files to write, relative to the report folder.
// Renderers never write; harness/cli/report.ts does (STYLE.md §2, §3).
import type { RunSummary } from '../stats/summary.js';
import type { ResultSet } from '../store/store.js';

export interface OutputFile {
  /** relative to the report folder, forward slashes */
  path: string;
  content: string | Buffer;
}

export interface ReportFormat {
  /** async because vega renders SVG asynchronously */
  render(summary: RunSummary, rs: ResultSet): OutputFile[] | Promise<OutputFile[]>;
}
