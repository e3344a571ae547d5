// One error class for everything the user can act on. Anything else that
// reaches bin/tracebench.ts is our bug and is printed with its stack.

export const ExitCode = {
  ok: 0,
  /** a regression was found (compare) or an internal bug */
  failure: 1,
  /** bad command line, suite, config or input file */
  usage: 2,
  /** host problem: qemu, kvm, disk, image build */
  host: 3,
  /** guest problem: boot timeout, panic, workload failed, unparsable output */
  guest: 4,
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
