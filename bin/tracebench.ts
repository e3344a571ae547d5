#!/usr/bin/env node
// The only top-level try/catch: a TracebenchError prints `error:` and `hint:` and
// exits with its code; anything else is our bug and keeps its stack.
import { hideBin } from 'yargs/helpers';
import { runCli } from '../harness/cli/main.js';
import { exitOnError } from '../harness/cli/fail.js';

runCli(hideBin(process.argv)).catch(exitOnError);
