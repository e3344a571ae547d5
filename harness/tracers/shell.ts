// Shell quoting for the guest job (POSIX sh). Single quotes keep everything
// literal; a single quote itself is closed, escaped and reopened.
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
