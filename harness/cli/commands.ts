// The subcommand registry: one line per command module (each a yargs CommandModule).
import type { CommandModule } from 'yargs';
import { baselineCommand } from './baseline.js';
import { benchCommandWith, type BenchOverrides } from './bench.js';
import { compareCommand } from './compare.js';
import { doctorCommand } from './doctor.js';
import { imageCommand } from './image.js';
import { labCommand } from './lab.js';
import { lavaCommand } from './lava.js';
import { parseCommand } from './parse.js';
import { publishCommand } from './publish.js';
import { importCommand } from './import.js';
import { reportCommand } from './report.js';

/** `bench` takes test overrides (a FakeMachine ...) from the CLI entry; nothing else needs them. */
export const commands = (bench: BenchOverrides = {}): CommandModule<any, any>[] => [
  benchCommandWith(bench),
  imageCommand,
  doctorCommand,
  labCommand,
  lavaCommand,
  parseCommand,
  reportCommand,
  importCommand,
  compareCommand,
  baselineCommand,
  publishCommand,
];
