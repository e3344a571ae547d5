// tracebench lava jobs --suite S --out DIR [--device-type qemu|x86-kexec] [--artifacts-url URL] [--tags a,b] [--device NAME] [--no-kvm]
// One LAVA job definition per planned boot, for review or for submission by other
// tools, without contacting a server:
//   DIR/jobs/<boot id>.yaml         the definitions (LAVA 2023.01 schema, strict)
//   DIR/artifacts/<image key>/…     kernel, initrd and root of each kernel's image
//   DIR/artifacts/<boot id>/job.*   each boot's job disk
//   DIR/artifacts/scratch-<G>G.qcow2
// The definitions fetch the artifacts from --artifacts-url (default: file:// of
// DIR/artifacts, which a dispatcher on this host can read); serve DIR/artifacts
// there as it is.
import { copyFileSync, existsSync, linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { loadSuite } from '../config.js';
import { ExitCode, TracebenchError } from '../errors.js';
import { recipeFor } from '../image/recipe.js';
import { imageArtifacts, jobDiskArtifact, scratchArtifact, sha256Of } from '../lava/artifacts.js';
import { LAVA_DEVICE_TYPES, type Artifact, type LavaDeviceType } from '../lava/job-definition.js';
import { parseLavaUri } from '../lava/uri.js';
import { lavaJobFor, stageJob } from '../machines/lava.js';
import type { BootImage } from '../machines/machine.js';
import { plan } from '../plan.js';
import { bootRequestOf, plannedJob, prepareShare } from '../run.js';
import { ensureImage } from './image.js';

interface Args {
  action: string;
  suite: string;
  out: string;
  'device-type': LavaDeviceType;
  'artifacts-url'?: string;
  tags?: string;
  device?: string;
  kvm: boolean;
  mirror?: string;
}

/** A file of the cache in DIR/artifacts: a hard link where the filesystem allows, else a copy. */
function place(file: string, to: string): string {
  mkdirSync(resolve(to, '..'), { recursive: true });
  rmSync(to, { force: true });
  try {
    linkSync(file, to);
  } catch {
    copyFileSync(file, to);
  }
  return to;
}

export interface LavaJobsOptions {
  suite: string;
  out: string;
  deviceType: LavaDeviceType;
  artifactsUrl?: string;
  tags?: string[];
  device?: string;
  noKvm?: boolean;
  mirror?: string;
  /** injected in tests: the image of each kernel */
  images?: Record<string, BootImage>;
}

/** Writes the job definitions and artifacts; returns the definition files, in plan order. */
export async function lavaJobs(o: LavaJobsOptions): Promise<string[]> {
  const suite = loadSuite(o.suite);
  const out = resolve(o.out);
  const art = join(out, 'artifacts');
  // the same validation as --machine lava://… (tag and device names end up in the definitions)
  const query = new URLSearchParams({ device_type: o.deviceType, ...(o.tags?.length ? { tags: o.tags.join(',') } : {}), ...(o.device ? { device: o.device } : {}), ...(o.noKvm ? { kvm: '0' } : {}) });
  const target = parseLavaUri(`lava://localhost?${query.toString()}`);
  const base = (o.artifactsUrl ?? `file://${art}`).replace(/\/+$/, '');
  if (!/^(https?|file):\/\/\S+$/.test(base)) throw new TracebenchError({ message: `--artifacts-url ${JSON.stringify(o.artifactsUrl)}: not an http(s):// or file:// URL`, exitCode: ExitCode.usage });
  const urlOf = async (file: string, compression?: Artifact['compression']): Promise<Artifact> => ({ url: `${base}/${relative(art, file).split('/').map(encodeURIComponent).join('/')}`, sha256: await sha256Of(file), ...(compression ? { compression } : {}) });

  const images: Record<string, { image: BootImage; kernel: Artifact; initrd: Artifact; root: Artifact }> = {};
  for (const k of suite.kernels) {
    const image = o.images?.[k.name] ?? (await ensureImage({ mirror: o.mirror, recipe: recipeFor(k) }));
    const f = await imageArtifacts(image, o.deviceType);
    const dir = join(art, image.key ?? k.name);
    images[k.name] = {
      image,
      kernel: await urlOf(place(f.kernel, join(dir, 'vmlinuz'))),
      initrd: await urlOf(place(f.initrd, join(dir, 'initrd.img'))),
      root: await urlOf(place(f.root, join(dir, f.root.endsWith('.qcow2') ? 'root.qcow2' : 'root.ext4.gz'))),
    };
  }
  const scratch = o.deviceType === 'qemu' && suite.machine.scratchGiB > 0 ? await urlOf(place(await scratchArtifact(suite.machine.scratchGiB), join(art, `scratch-${suite.machine.scratchGiB}G.qcow2`))) : undefined;

  rmSync(join(out, 'jobs'), { recursive: true, force: true });
  mkdirSync(join(out, 'jobs'), { recursive: true });
  const written: string[] = [];
  for (const boot of plan(suite)) {
    const { driver, options, job: files } = plannedJob(suite, boot, { noisyRetries: 0 });
    const share = join(out, 'boots', boot.id);
    prepareShare(share, files);
    const stage = join(share, 'lava-stage');
    stageJob(share, stage);
    const disk = await jobDiskArtifact(stage, join(art, boot.id, o.deviceType === 'qemu' ? 'job.ext4.gz' : 'job.tar.gz'), o.deviceType);
    rmSync(stage, { recursive: true, force: true });
    const img = images[boot.kernel.name];
    const req = bootRequestOf(suite, boot, img.image, driver, options, share);
    const yaml = lavaJobFor(target, req, { kernel: img.kernel, initrd: img.initrd, root: img.root, job: await urlOf(disk.file, disk.compression), ...(scratch ? { scratch } : {}) }, { 'tracebench.suite': suite.name, 'tracebench.boot': boot.id, 'tracebench.kernel': boot.kernel.name, 'tracebench.config': boot.config.name, 'tracebench.round': String(boot.round) });
    const file = join(out, 'jobs', `${boot.id}.yaml`);
    writeFileSync(file, yaml);
    written.push(file);
  }
  return written;
}

export const lavaCommand: CommandModule<object, Args> = {
  command: 'lava <action>',
  describe: 'LAVA fleets (docs/lava.md): `lava jobs --suite S --out DIR` writes one LAVA job definition per planned boot, with their artifacts',
  builder: (y) =>
    y
      .positional('action', { choices: ['jobs'] as const, describe: 'jobs: write the job definitions and artifacts of a suite, contacting no server' })
      .option('suite', { type: 'string', default: 'quick', describe: 'quick | standard | path to a suite YAML' })
      .option('out', { type: 'string', demandOption: true, describe: 'directory for jobs/ and artifacts/' })
      .option('device-type', { choices: LAVA_DEVICE_TYPES, default: 'qemu' as LavaDeviceType, describe: 'qemu: a QEMU device; x86-kexec: a bare-metal box that kexecs each kernel under test from its base OS' })
      .option('artifacts-url', { type: 'string', describe: 'where DIR/artifacts will be served (default: its file:// URL)' })
      .option('tags', { type: 'string', describe: 'device tags every job asks for, comma-separated' })
      .option('device', { type: 'string', describe: 'pin every job to this device (by its own tag)' })
      .option('kvm', { type: 'boolean', default: true, describe: 'qemu: the workers use KVM (--no-kvm: TCG, context no_kvm)' })
      .option('mirror', { type: 'string', describe: 'Debian mirror for an image build (default: host apt configuration)' }) as never,
  handler: async (a) => {
    const files = await lavaJobs({ suite: a.suite, out: a.out, deviceType: a['device-type'], artifactsUrl: a['artifacts-url'], tags: a.tags?.split(',').filter(Boolean), device: a.device, noKvm: !a.kvm, mirror: a.mirror });
    const out = resolve(a.out);
    process.stdout.write(`${files.length} LAVA job definitions in ${join(out, 'jobs')}${existsSync(join(out, 'artifacts')) ? `; their artifacts in ${join(out, 'artifacts')}` : ''}\nsubmit each with: lavacli jobs submit FILE (the artifacts must be reachable at ${a['artifacts-url'] ?? `file://${join(out, 'artifacts')}`})\n`);
  },
};
