#!/usr/bin/env node
// `npm test`'s pretest: the set-up step `bench` runs, plus the browser tests'
// packages, so `npm ci && npm test` is all a fresh Debian machine needs.
// As root it installs what is missing (saying what and why); otherwise, or with
// --no-install (or TRACEBENCH_NO_INSTALL=1, since `npm test` passes no flags to
// pretest), it stops with exit 3 and the exact apt-get command.
import { prepareHost } from '../harness/doctor.js';
import { ExitCode } from '../harness/errors.js';
import { exitOnError } from '../harness/cli/fail.js';

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--no-install' && a !== '--browser');
if (unknown.length > 0) {
  process.stderr.write(`error: unknown argument ${unknown.join(' ')}\nhint: usage: prepare-host [--browser] [--no-install]\n`);
  process.exit(ExitCode.usage);
}
const install = !args.includes('--no-install') && !/^(1|true|yes)$/i.test(process.env.TRACEBENCH_NO_INSTALL ?? '');

prepareHost({ install, browser: args.includes('--browser') }).then(
  (installed) => {
    if (installed.length > 0) process.stderr.write(`installed: ${installed.join(' ')}\n`);
  },
  exitOnError,
);
