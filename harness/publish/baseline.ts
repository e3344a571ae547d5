// The accepted baseline of a results root: `<results-root>/baseline`, a text file
// whose one non-comment line is a run id (a directory name under the root).
// Plain text so a lab can also accept by hand (`echo <run-id> > baseline`) or in
// a PR; comment lines record who/when/why. Every acceptance is also appended to
// `<results-root>/baseline-history.jsonl`, so the published site can tell which
// baseline each past night was judged against. Parsing is pure; the CLI reads
// and writes the files.
import { ExitCode, TracebenchError } from '../errors.js';

export const BASELINE_FILE = 'baseline';
export const BASELINE_HISTORY_FILE = 'baseline-history.jsonl';

export interface BaselineEntry {
  runId: string;
  acceptedAt: string;
  note?: string;
}

/** Run ids are directory names: no separators, no leading dot. */
export function isRunId(s: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.:+-]*$/.test(s);
}

export function parseBaselineFile(text: string, origin: string): string {
  const ids = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (ids.length !== 1 || !isRunId(ids[0]!)) {
    throw new TracebenchError({
      message: `${origin}: expected exactly one run id line, found ${ids.length === 1 ? JSON.stringify(ids[0]) : `${ids.length} lines`}`,
      hint: 'accept a baseline with `tracebench baseline accept <results-root>/<run-id>`',
      exitCode: ExitCode.usage,
    });
  }
  return ids[0]!;
}

export function formatBaselineFile(e: BaselineEntry): string {
  return [
    '# tracebench accepted baseline: `tracebench compare <results-root> <run>` compares against this run.',
    '# Change it with `tracebench baseline accept <results-root>/<run-id>` (or edit the last line).',
    `# accepted-at: ${e.acceptedAt}`,
    ...(e.note ? [`# note: ${e.note.replace(/\n/g, ' ')}`] : []),
    e.runId,
    '',
  ].join('\n');
}

export function parseBaselineHistory(text: string): BaselineEntry[] {
  const out: BaselineEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as BaselineEntry;
      if (typeof e.runId === 'string' && typeof e.acceptedAt === 'string') out.push(e);
    } catch {
      // a torn last line from an interrupted append: the baseline file itself is authoritative
    }
  }
  return out;
}

/**
 * The baseline a run was judged against: the latest acceptance made before the
 * run started, of a run that itself started before it. Null when none was.
 */
export function baselineAt(history: BaselineEntry[], startedAt: string, runStart: (runId: string) => string | undefined): string | null {
  let best: BaselineEntry | null = null;
  for (const e of history) {
    const s = runStart(e.runId);
    if (e.acceptedAt > startedAt || s === undefined || s >= startedAt) continue;
    if (!best || e.acceptedAt >= best.acceptedAt) best = e;
  }
  return best?.runId ?? null;
}
