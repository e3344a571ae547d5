// The flight recorder's per-iteration snapshot, walked and cut on the host.
//
// When the machine brings outputs back whole (GuestContext.traceToHost), collect
// only records the snapshot and copies it out; the host then does what the guest
// did with one `od` per packet and two `awk` per stream (~3 s of host time per
// iteration under TCG): dump every packet header, keep in each stream file only the
// packets this iteration wrote, list the files. The text it returns has the
// sections the guest would have printed (previous-packets, packets, files), so
// parseLttngStats reads both the same way. See index.ts (packetDumpLines,
// trimToNewPackets) for the guest's version and packets.ts for the header layout.
import { closeSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parsePacketHeaders } from './packets.js';

/** the packed packet header the guest dumps: 11 u64 (packets.ts) */
const HEADER_BYTES = 88;

/** Every file and directory under `dir`, paths sorted. */
function walk(dir: string): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs: string[] = [];
  const visit = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        dirs.push(p);
        visit(p);
      } else if (e.isFile()) files.push(p);
    }
  };
  visit(dir);
  return { files: files.sort(), dirs };
}

/** Stream files: under a kernel/ directory, not metadata, not in an index/ directory (the guest's find). */
function streamFiles(dir: string): string[] {
  return walk(dir).files.filter((f) => {
    const rel = `/${relative(dir, f)}`;
    return rel.includes('/kernel/') && !rel.includes('/index/') && basename(f) !== 'metadata';
  });
}

/** `packet <stream> <offset> <11 u64>` for every packet of every stream file, as the guest's od walk prints them. */
export function dumpPackets(dir: string): string {
  const lines: string[] = [];
  const buf = Buffer.alloc(HEADER_BYTES);
  for (const f of streamFiles(dir)) {
    const size = statSync(f).size;
    const fd = openSync(f, 'r');
    try {
      let off = 0;
      while (off < size) {
        const n = readSync(fd, buf, 0, HEADER_BYTES, off);
        const words = Array.from({ length: Math.floor(n / 8) }, (_, i) => buf.readBigUInt64LE(i * 8));
        lines.push(`packet ${basename(f)} ${off} ${words.join(' ')}`);
        const bits = Number(words[7] ?? 0n);
        if (!(bits > 0)) break;
        off += bits / 8;
      }
    } finally {
      closeSync(fd);
    }
  }
  return lines.join('\n');
}

/**
 * Keep, in each stream file, only the packets newer than the previous collect's
 * newest of that stream (none before the first iteration); a stream with none is
 * removed, and the index directories go (they no longer match the cut files).
 */
export function trimToNewPackets(dir: string, now: string, previous: string): void {
  const prevMax = new Map<string, number>();
  for (const h of parsePacketHeaders(previous)) prevMax.set(h.stream, Math.max(prevMax.get(h.stream) ?? -1, h.seq));
  for (const d of walk(dir).dirs.filter((d) => basename(d) === 'index')) rmSync(d, { recursive: true, force: true });
  const headers = parsePacketHeaders(now);
  for (const f of streamFiles(dir)) {
    const t = prevMax.get(basename(f)) ?? -1;
    const first = headers.find((h) => h.stream === basename(f) && h.seq > t);
    if (!first) rmSync(f);
    else if (first.offset > 0) writeFileSync(f, readFileSync(f).subarray(first.offset));
  }
}

/** `<bytes> <path relative to dir>` per file, as the guest's `find -printf '%s %P\n'`. */
export function listFiles(dir: string): string {
  return walk(dir)
    .files.map((f) => `${statSync(f).size} ${relative(dir, f)}`)
    .join('\n');
}

/**
 * The sections the guest's flight-recorder collect prints after the session list:
 * previous-packets (the packets section of the previous collect's reduction, in
 * time order; '' before the first), packets, files. Cuts `dir` in place.
 */
export function snapshotSections(dir: string, previousPackets: string): string {
  const now = dumpPackets(dir);
  trimToNewPackets(dir, now, previousPackets);
  return `\n== previous-packets\n${previousPackets}\n== packets\n${now}\n== files\n${listFiles(dir)}\n`;
}
