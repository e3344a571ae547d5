// How every entry point ends on an error: a TracebenchError is the user's to act
// on (message, hint, its own exit code); anything else is our bug, with its stack.
import { ExitCode, TracebenchError } from '../errors.js';

export function exitOnError(e: unknown): never {
  if (e instanceof TracebenchError) {
    process.stderr.write(`error: ${e.message}\n`);
    if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    process.exit(e.exitCode);
  }
  process.stderr.write(`internal error (a tracebench bug, please report it):\n${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(ExitCode.internal);
}
