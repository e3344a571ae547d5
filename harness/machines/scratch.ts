// Per-boot scratch disks of local guests: a fresh ext4 image made on the host.
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ExitCode, TracebenchError } from '../errors.js';

/** A fresh, empty ext4 scratch disk: made natively on the host, so no boot time is spent on mkfs. */
export async function makeScratch(path: string, gib: number): Promise<void> {
  rmSync(path, { force: true });
  // detached: a Ctrl-C on the terminal reaches the harness, which stops before the next
  // boot; it must not kill mke2fs halfway and turn an interruption into a host error
  const r = await execa('mke2fs', ['-q', '-t', 'ext4', '-F', '-L', 'tbscratch', path, `${gib}G`], { reject: false, all: true, detached: true });
  if (r.exitCode !== 0) {
    throw new TracebenchError({ message: `mke2fs could not make the scratch disk ${path}: ${r.all}`, hint: 'is there free disk space in the scratch directory?', exitCode: ExitCode.host });
  }
}

export function removeScratch(path: string): void {
  rmSync(path, { force: true });
}

export function scratchDir(): string {
  const d = process.env.TRACEBENCH_SCRATCH_DIR || join(tmpdir(), 'tracebench');
  mkdirSync(d, { recursive: true });
  return d;
}

