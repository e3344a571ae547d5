// The subcommand registry: one line per command module (each a yargs CommandModule).
import type { CommandModule } from 'yargs';

export const commands: CommandModule<any, any>[] = [];
