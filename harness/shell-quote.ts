// The one shell-quoting helper: every config-derived value that goes into a
// guest fragment or a host-side shell string (mmdebstrap hooks) goes through
// shellQuote. POSIX single quotes are the only quoting in which nothing expands
// ($, `, \, !, globs, newlines all stay literal); a single quote itself is
// closed, escaped and reopened. Double quotes (or JSON.stringify) are not a
// substitute: $( ) and backticks still run inside them.
import { ExitCode, TracebenchError } from './errors.js';

/** Words made only of these characters mean the same quoted or not, so they stay readable. */
const BARE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * One shell word that the shell reads back as exactly `s`.
 * Throws for a NUL byte: no shell word, argv entry or file name can hold one.
 */
export function shellQuote(s: string): string {
  if (s.includes('\0')) {
    throw new TracebenchError({
      message: `cannot pass ${JSON.stringify(s)} to a shell: it contains a NUL byte`,
      hint: 'remove the NUL byte from the configuration value',
      exitCode: ExitCode.usage,
    });
  }
  if (BARE_WORD.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
