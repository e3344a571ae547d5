// Reading and writing a result directory. Samples are appended and flushed one
// line at a time: a panic or Ctrl-C in boot 37 must not lose boots 1-36.
import { appendFileSync, existsSync, mkdirSync, openSync, closeSync, fsyncSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, TracebenchError } from '../errors.js';
import { manifestSchema, sampleSchema, type Manifest, type Sample } from './schema.js';

export const MANIFEST = 'manifest.json';
export const SAMPLES = 'samples.jsonl';

export interface ResultSet {
  dir: string;
  manifest: Manifest;
  samples: Sample[];
}

export function writeManifest(dir: string, manifest: Manifest): void {
  mkdirSync(dir, { recursive: true });
  // write-then-rename so a crash never leaves half a manifest
  const tmp = join(dir, `${MANIFEST}.tmp`);
  writeFileSync(tmp, JSON.stringify(manifestSchema.parse(manifest), null, 2) + '\n');
  renameSync(tmp, join(dir, MANIFEST));
}

export function appendSample(dir: string, sample: Sample): void {
  const line = JSON.stringify(sampleSchema.parse(sample)) + '\n';
  const path = join(dir, SAMPLES);
  appendFileSync(path, line);
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function issues(e: { issues: { path: (string | number)[]; message: string }[] }): string {
  return e.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

export function readManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) {
    throw new TracebenchError({
      message: `${path} does not exist: ${dir} is not a tracebench result directory`,
      hint: 'pass a results/<run-id> directory written by `tracebench bench` or `tracebench import`',
      exitCode: ExitCode.usage,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new TracebenchError({ message: `${path}: not valid JSON: ${(cause as Error).message}`, exitCode: ExitCode.usage, cause });
  }
  const r = manifestSchema.safeParse(json);
  if (!r.success) throw new TracebenchError({ message: `${path}: ${issues(r.error)}`, exitCode: ExitCode.usage });
  return r.data;
}

export function readSamples(dir: string): Sample[] {
  const path = join(dir, SAMPLES);
  if (!existsSync(path)) return [];
  const out: Sample[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((text, i) => {
    if (text.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // an interrupted append leaves at most a torn last line: tolerate that one only
      if (i === lines.length - 1 || (i === lines.length - 2 && lines[lines.length - 1] === '')) return;
      throw new TracebenchError({ message: `${path}:${i + 1}: not valid JSON`, exitCode: ExitCode.usage });
    }
    const r = sampleSchema.safeParse(json);
    if (!r.success) throw new TracebenchError({ message: `${path}:${i + 1}: ${issues(r.error)}`, exitCode: ExitCode.usage });
    out.push(r.data);
  });
  return out;
}

export function readResultSet(dir: string): ResultSet {
  return { dir, manifest: readManifest(dir), samples: readSamples(dir) };
}
