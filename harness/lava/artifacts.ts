// What a LAVA dispatcher (or a bare-metal device) downloads for a tracebench job,
// and the small static HTTP server that hands it out from this host.
//
// Per image key, cached in ~/.cache/tracebench/lava/<key>/ and made once:
//   qemu:      vmlinuz, initrd.img, root.qcow2 (the ext4 root as a qcow2 with
//              zstd-compressed clusters: QEMU reads it in place, so the worker
//              neither downloads nor writes the multi-GiB raw image per job)
//   x86-kexec: vmlinuz, initrd.img, root.ext4.gz (written to the box's root
//              partition only when it holds another image)
// Per boot: the job disk (qemu: a small ext4 labelled tbshare, gzip'd;
// x86-kexec: a tar.gz unpacked onto the share partition), and per size an empty
// ext4 scratch disk as qcow2.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { ExitCode, TracebenchError } from '../errors.js';
import type { BootImage } from '../machines/machine.js';
import { cacheRoot } from '../image/build.js';
import type { Artifact, LavaDeviceType } from './job-definition.js';

/** sha256 of a file, remembered beside it (`<file>.sha256`) while the file is unchanged. */
export async function sha256Of(file: string): Promise<string> {
  const side = `${file}.sha256`;
  const st = statSync(file);
  if (existsSync(side)) {
    const [sum, size, mtime] = readFileSync(side, 'utf8').trim().split(' ');
    if (Number(size) === st.size && Number(mtime) === st.mtimeMs) return sum;
  }
  const h = createHash('sha256');
  await new Promise<void>((resolve, reject) => createReadStream(file).on('data', (c) => h.update(c)).on('end', resolve).on('error', reject));
  const sum = h.digest('hex');
  writeFileSync(side, `${sum} ${st.size} ${st.mtimeMs}\n`);
  return sum;
}

async function run(cmd: string, args: string[], what: string): Promise<void> {
  const r = await execa(cmd, args, { reject: false, all: true });
  if (r.exitCode !== 0) throw new TracebenchError({ message: `LAVA artifacts: ${what} failed (${cmd} exit ${r.exitCode}): ${String(r.all).trim().split('\n').slice(-3).join(' ')}`, exitCode: ExitCode.host });
}

/** Makes `file` with `make(tmp)` unless it exists: a half-made file never takes its place. */
async function once(file: string, make: (tmp: string) => Promise<void>): Promise<string> {
  if (existsSync(file)) return file;
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.part-${process.pid}`;
  try {
    await make(tmp);
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
  return file;
}

export const lavaCacheDir = () => join(cacheRoot(), 'lava');

export interface ImageFiles {
  kernel: string;
  initrd: string;
  root: string;
}

/** The files of one image a device type needs, made once per image key. */
export async function imageArtifacts(image: BootImage, kind: LavaDeviceType, dir = join(lavaCacheDir(), image.key ?? 'default')): Promise<ImageFiles> {
  const root =
    kind === 'qemu'
      ? await once(join(dir, 'root.qcow2'), (tmp) => run('qemu-img', ['convert', '-c', '-O', 'qcow2', '-o', 'compression_type=zstd', '-f', 'raw', image.root, tmp], 'converting the root image to a compressed qcow2'))
      : await once(join(dir, 'root.ext4.gz'), (tmp) => run('sh', ['-c', 'gzip -1 -c "$1" > "$2"', 'sh', image.root, tmp], 'compressing the root image'));
  return { kernel: image.kernel, initrd: image.initrd, root };
}

/** An empty ext4 (label tbscratch) of `gib` GiB as a qcow2: kilobytes on the wire, a fresh filesystem per boot. */
export async function scratchArtifact(gib: number, dir = lavaCacheDir()): Promise<string> {
  return once(join(dir, `scratch-${gib}G.qcow2`), async (tmp) => {
    const raw = `${tmp}.raw`;
    try {
      await run('mke2fs', ['-q', '-t', 'ext4', '-F', '-L', 'tbscratch', '-E', 'lazy_itable_init=1,lazy_journal_init=1', raw, `${gib}G`], 'making the scratch filesystem');
      await run('qemu-img', ['convert', '-O', 'qcow2', '-f', 'raw', raw, tmp], 'converting the scratch disk to qcow2');
    } finally {
      rmSync(raw, { force: true });
    }
  });
}

/**
 * The job disk of one boot from its staged directory: qemu gets an ext4 labelled
 * tbshare (gzip'd, LAVA unpacks it), x86-kexec a tar.gz for the share partition.
 */
export async function jobDiskArtifact(staged: string, out: string, kind: LavaDeviceType, sizeMiB = 128): Promise<Artifact & { file: string }> {
  rmSync(out, { force: true });
  mkdirSync(dirname(out), { recursive: true });
  if (kind === 'qemu') {
    const raw = out.replace(/\.gz$/, '');
    await run('mke2fs', ['-q', '-t', 'ext4', '-F', '-L', 'tbshare', '-E', 'root_owner=0:0', '-d', staged, raw, `${sizeMiB}M`], 'making the job disk');
    await run('gzip', ['-f', '-1', raw], 'compressing the job disk');
    return { file: out, url: '', sha256: await sha256Of(out), compression: 'gz' };
  }
  await run('tar', ['-czf', out, '-C', staged, '.'], 'packing the job');
  return { file: out, url: '', sha256: await sha256Of(out) };
}

/**
 * Serves registered files over plain HTTP (GET and HEAD, exact Content-Length, no
 * content encoding: LAVA checks the size and hashes the bytes it receives). Each
 * file gets an unguessable path; nothing else on this host is reachable.
 */
export class ArtifactServer {
  private readonly files = new Map<string, string>();
  private server?: Server;
  private base?: string;

  /** Listens on `address` (host or host:port; port 0 or none: any free port); returns the base URL. */
  async listen(address: string, advertise?: string): Promise<string> {
    const m = /^(.*?)(?::(\d+))?$/.exec(address)!;
    const host = m[1].replace(/^\[|\]$/g, '') || '127.0.0.1';
    this.server = createServer((req, res) => {
      const file = this.files.get((req.url ?? '').split('?')[0]);
      if (!file || !existsSync(file)) return void res.writeHead(404).end();
      if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end();
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': statSync(file).size });
      if (req.method === 'HEAD') return void res.end();
      createReadStream(file).pipe(res);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (e) => reject(new TracebenchError({ message: `LAVA artifacts: cannot listen on ${address}: ${e.message}`, hint: 'set another address with ?artifacts=host:port in the lava:// URI', exitCode: ExitCode.host })));
      this.server!.listen(Number(m[2] ?? 0), host, () => resolve());
    });
    const port = (this.server.address() as AddressInfo).port;
    this.base = `http://${advertise ?? (host.includes(':') ? `[${host}]` : host)}:${port}`;
    return this.base;
  }

  /** The URL the file is served at from now on. */
  add(file: string): string {
    if (!this.base) throw new Error('ArtifactServer.add before listen');
    const path = `/${randomBytes(12).toString('hex')}/${encodeURIComponent(basename(file))}`;
    this.files.set(path, file);
    return `${this.base}${path}`;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
