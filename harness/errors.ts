// One error class for everything the user can act on. Anything else that
// reaches bin/tracebench.ts is our bug and is printed with its stack.

/**
 * Exit statuses of every command. Each meaning has its own code so a script (the
 * nightly workflow) never mistakes one for another: above all, a crash must never
 * read as a regression, and a comparison that judged nothing must never pass a gate.
 * README.md ("Exit codes") repeats this table; keep the two in step.
 */
export const ExitCode = {
  /** done; for `compare`: at least one gated cell judged and none regressed */
  ok: 0,
  /** internal error: an uncaught exception, i.e. a tracebench bug (printed with its stack) */
  internal: 1,
  /** bad command line, suite, config or input file (including a missing directory or a refused manifest mismatch) */
  usage: 2,
  /** host problem: missing package, not root, QEMU failed to start, KVM, disk, image build */
  host: 3,
  /** guest problem: boot timeout, panic, workload failed, unparsable output */
  guest: 4,
  /** `compare`: at least one gated cell regressed */
  regression: 5,
  /** `compare`: no gated cell could be judged (all "insufficient data"): nothing was shown either way */
  inconclusive: 6,
  /** stopped by SIGINT/SIGTERM; what was measured is kept and `--resume` continues */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class TracebenchError extends Error {
  readonly hint?: string;
  readonly exitCode: ExitCode;
  constructor(opts: { message: string; hint?: string; exitCode: ExitCode; cause?: unknown }) {
    super(opts.message, { cause: opts.cause });
    this.name = 'TracebenchError';
    this.hint = opts.hint;
    this.exitCode = opts.exitCode;
  }
}

/** Output a parser cannot read. `line` is 1-based; 0 when no line is to blame (e.g. no result line). */
export class ParseError extends TracebenchError {
  readonly line: number;
  readonly text: string;
  constructor(what: string, message: string, line = 0, text = '') {
    super({
      message: line > 0 ? `${what}: line ${line}: ${message}: ${JSON.stringify(text)}` : `${what}: ${message}`,
      exitCode: ExitCode.guest,
    });
    this.name = 'ParseError';
    this.line = line;
    this.text = text;
  }
}
