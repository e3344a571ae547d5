// The subcommand registry: one line per command module (each a yargs CommandModule).
import type { CommandModule } from 'yargs';
import { baselineCommand } from './baseline.js';
import { benchCommand } from './bench.js';
import { compareCommand } from './compare.js';
import { doctorCommand } from './doctor.js';
import { imageCommand } from './image.js';
import { parseCommand } from './parse.js';
import { publishCommand } from './publish.js';
import { importCommand } from './import.js';
import { reportCommand } from './report.js';

export const commands: CommandModule<any, any>[] = [
  benchCommand,
  imageCommand,
  doctorCommand,
  parseCommand,
  reportCommand,
  importCommand,
  compareCommand,
  baselineCommand,
  publishCommand,
];
