// tracebench image build|info
import type { CommandModule } from 'yargs';
import { ExitCode, TracebenchError } from '../errors.js';
import { buildImage, imageKey, readImageInfo, imageDir, pruneImages, type ImageInfo } from '../image/build.js';
import { defaultRecipe, type ImageRecipe } from '../image/recipe.js';
import { hostMirror } from '../image/mirror.js';
import { hostChecks } from '../doctor.js';
import { requireChecks } from './doctor.js';

const say = (s: string) => process.stderr.write(s + '\n');

/** Build the image or reuse the cached one, saying which. Shared by `image build` and `bench`. */
export async function ensureImage(opts: { mirror?: string; force?: boolean; recipe?: ImageRecipe }): Promise<ImageInfo> {
  const recipe = opts.recipe ?? defaultRecipe;
  const mirror = opts.mirror ?? hostMirror();
  const started = Date.now();
  const cached = readImageInfo(imageKey(recipe));
  if (cached && !opts.force) {
    say(`image: reusing cached image ${cached.key} (kernel ${cached.kernelRelease}, built ${cached.builtAt} in ${cached.buildS.toFixed(0)} s)`);
    return cached;
  }
  say(`image: building ${imageKey(recipe)} from Debian ${mirror} (several minutes; cached afterwards)`);
  const { info } = await buildImage({
    recipe,
    mirror,
    force: opts.force,
    onProgress: (l) => say(`image: ${l.replace(/^I: /, '')}`),
  });
  say(`image: built ${info.key} in ${((Date.now() - started) / 1000).toFixed(0)} s: ${info.dir}`);
  return info;
}

function printInfo(info: ImageInfo): void {
  const out = (s: string) => process.stdout.write(s + '\n');
  out(`image        ${info.key}`);
  out(`directory    ${info.dir}`);
  out(`built        ${info.builtAt} in ${info.buildS.toFixed(0)} s from ${info.mirror}`);
  out(`debian       ${info.suite}`);
  out(`kernel       ${info.kernelRelease} (config sha256 ${info.kernelConfigHash.slice(0, 16)})`);
  for (const [step, kv] of Object.entries(info.steps)) {
    out(`${step.padEnd(12)} ${Object.entries(kv).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  for (const p of ['dbench', 'lttng-tools', 'babeltrace2', 'linux-image-amd64']) {
    if (info.packages[p]) out(`${p.padEnd(12)} ${info.packages[p]}`);
  }
}

interface Args {
  action: 'build' | 'info' | 'prune';
  mirror?: string;
  force: boolean;
  json: boolean;
}

export const imageCommand: CommandModule<object, Args> = {
  command: 'image <action>',
  describe: 'build, show or prune the cached guest images',
  builder: (y) =>
    y
      .positional('action', { choices: ['build', 'info', 'prune'] as const, demandOption: true, describe: 'prune removes cached images of other recipes and unfinished builds' })
      .option('mirror', { type: 'string', describe: 'Debian mirror URL (default: from the host apt configuration, or TRACEBENCH_MIRROR)' })
      .option('force', { type: 'boolean', default: false, describe: 'rebuild even if a cached image matches' })
      .option('json', { type: 'boolean', default: false, describe: 'print image.json (info)' }) as never,
  handler: async (a) => {
    if (a.action === 'build') {
      requireChecks(hostChecks());
      printInfo(await ensureImage({ mirror: a.mirror, force: a.force }));
      return;
    }
    if (a.action === 'prune') {
      const keep = imageKey();
      for (const dir of pruneImages(keep)) process.stdout.write(`removed ${dir}\n`);
      return;
    }
    const info = readImageInfo(imageKey());
    if (!info) {
      throw new TracebenchError({
        message: `no cached image for the current recipe (${imageKey()}; would be ${imageDir(imageKey())})`,
        hint: 'run `tracebench image build`',
        exitCode: ExitCode.host,
      });
    }
    if (a.json) process.stdout.write(JSON.stringify(info, null, 2) + '\n');
    else printInfo(info);
  },
};
