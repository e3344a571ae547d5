// tracebench lab prepare ssh://user@host[:port] [--suite S]: put each kernel's
// image where the lab box boots it from (root partition, kernel, initrd), once per image key.
import type { CommandModule } from 'yargs';
import { loadSuite } from '../config.js';
import { ExitCode, TracebenchError } from '../errors.js';
import { recipeFor } from '../image/recipe.js';
import { labMachine } from '../machines/index.js';
import { ensureImage } from './image.js';

interface Args {
  action: string;
  machine: string;
  suite: string;
  mirror?: string;
}

export const labCommand: CommandModule<object, Args> = {
  command: 'lab <action> <machine>',
  describe: 'lab boxes (docs/lab.md): `lab prepare ssh://user@host[:port]` writes the images a suite boots onto the box',
  builder: (y) =>
    y
      .positional('action', { choices: ['prepare'] as const, describe: 'prepare: write root image, kernel and initrd for every kernel of the suite' })
      .positional('machine', { type: 'string', demandOption: true, describe: 'ssh://user@host[:port]' })
      .option('suite', { type: 'string', default: 'quick', describe: 'quick | standard | path to a suite YAML (its kernels and lab settings)' })
      .option('mirror', { type: 'string', describe: 'Debian mirror for an image build (default: host apt configuration)' }) as never,
  handler: async (a) => {
    const suite = loadSuite(a.suite);
    const machine = labMachine(a.machine, suite);
    if (!machine) throw new TracebenchError({ message: `lab prepare needs a lab box (ssh://...), not ${a.machine}`, exitCode: ExitCode.usage });
    await machine.check();
    for (const k of suite.kernels) {
      const image = await ensureImage({ mirror: a.mirror, recipe: recipeFor(k) });
      process.stderr.write(`lab: preparing ${machine.uri} for kernel ${k.name} (image ${image.key})\n`);
      await machine.prepare(image);
    }
    process.stdout.write(`${machine.uri}: prepared for ${suite.kernels.map((k) => k.name).join(', ')}\n`);
  },
};
