// A LAVA 2023.01 job log, as REST /api/v0.2/jobs/<id>/logs/ serves it: a YAML
// list, one flow mapping per line, e.g.
//   - {"dt": "2026-11-30T23:35:00.725872", "lvl": "target", "msg": "TB-MARK job-start"}
// `target` lines are the device's console; `feedback` is console read after the
// test ended; `results` carry LAVA's own test cases; `error`/`exception` say
// why a job failed. Parsed one line at a time, so a log fetched in pieces
// (?start=N) parses the same as a whole one.
import { parse } from 'yaml';

export interface LogEntry {
  dt: string;
  lvl: string;
  msg: unknown;
}

/** The entries of a log text; lines that are not entries (a truncated last line) are skipped. */
export function parseJobLog(text: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('- {')) continue;
    try {
      const e = parse(line.slice(2)) as LogEntry;
      if (e && typeof e.lvl === 'string') out.push(e);
    } catch {
      // a line cut off mid-transfer: the next fetch starts at its number again
    }
  }
  return out;
}

/** The device console: target and feedback lines, one per entry. */
export function consoleOf(entries: LogEntry[]): string {
  return entries
    .filter((e) => (e.lvl === 'target' || e.lvl === 'feedback') && typeof e.msg === 'string')
    .map((e) => e.msg as string)
    .join('\n');
}

/** LAVA's own account of a failure: error and exception lines, and failed `lava` results with their error text. */
export function errorsOf(entries: LogEntry[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if ((e.lvl === 'error' || e.lvl === 'exception') && typeof e.msg === 'string') out.push(e.msg);
    if (e.lvl === 'results' && e.msg && typeof e.msg === 'object') {
      const r = e.msg as { definition?: string; case?: string; result?: string; extra?: { error_msg?: string; error_type?: string } };
      if (r.definition === 'lava' && r.result === 'fail' && r.extra?.error_msg) out.push(`${r.case}: ${r.extra.error_type ? `${r.extra.error_type}: ` : ''}${r.extra.error_msg}`);
    }
  }
  return [...new Set(out)];
}
