// LAVA 2023.01 brings nothing back from a device's disks and has no attachments:
// the console is the only way out. At the end of its job the guest prints its
// out/ directory as a framed, checksummed block, and the host cuts it out of the
// job log:
//   TB-OUT-BEGIN <sha256 of the payload> <bytes>
//   TB-OUT <n> <base64 line n>          n = 1, 2, ...
//   TB-OUT-END <number of lines>
// The payload is out/ as a gzip'd tar. Every data line carries its number, so a
// line lost or mangled on a serial console is named, and the hash refuses
// anything else that changed. Kernel messages are kept off the console while the
// block is printed (dmesg -n 1), and any line between the frames that is not a
// data line is skipped.
import { createHash } from 'node:crypto';
import { ExitCode, TracebenchError } from '../errors.js';

export const FRAME_BEGIN = 'TB-OUT-BEGIN';
export const FRAME_LINE = 'TB-OUT';
export const FRAME_END = 'TB-OUT-END';

/** Guest shell lines that print `dir`'s `out/` as a frame on the console (busybox or coreutils + mawk). */
export function frameOutLines(shareDir: string): string[] {
  return [
    `tar -czf /tmp/tb-out.tgz -C ${shareDir} out 2> /dev/null`,
    'dmesg -n 1 2> /dev/null',
    '{',
    `  echo "${FRAME_BEGIN} $(sha256sum /tmp/tb-out.tgz | cut -d' ' -f1) $(stat -c %s /tmp/tb-out.tgz)"`,
    `  base64 -w 76 /tmp/tb-out.tgz | awk '{ print "${FRAME_LINE} " NR " " $0 } END { print "${FRAME_END} " NR }'`,
    '} > /dev/console',
  ];
}

/** The host side of frameOutLines, for tests and for anything that prints a frame itself. */
export function encodeFrame(payload: Buffer): string[] {
  const b64 = payload.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return [
    `${FRAME_BEGIN} ${createHash('sha256').update(payload).digest('hex')} ${payload.length}`,
    ...lines.map((l, i) => `${FRAME_LINE} ${i + 1} ${l}`),
    `${FRAME_END} ${lines.length}`,
  ];
}

const frameError = (what: string, why: string) =>
  new TracebenchError({ message: `${what}: the framed output block ${why}`, hint: 'the raw console is kept with the boot (console.log); the boot is recorded as failed', exitCode: ExitCode.guest });

/**
 * The payload of the last complete frame in `console` (lines of the guest's
 * console, as LAVA logged them). Throws, naming `what` and the defect, for a
 * missing, truncated or corrupted block; undefined when no frame began at all.
 */
export function decodeFrame(console: string, what: string): Buffer | undefined {
  const lines = console.split('\n').map((l) => l.replace(/\r$/, ''));
  let begin = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i].includes(`${FRAME_BEGIN} `)) {
      begin = i;
      break;
    }
  }
  if (begin < 0) return undefined;
  const head = new RegExp(`${FRAME_BEGIN} ([0-9a-f]{64}) (\\d+)$`).exec(lines[begin]);
  if (!head) throw frameError(what, `has a malformed first line: ${JSON.stringify(lines[begin].slice(0, 200))}`);
  const [, sum, size] = head;
  const data = new Map<number, string>();
  let count: number | undefined;
  const lineRe = new RegExp(`(?:^|\\s)${FRAME_LINE} (\\d+) ([A-Za-z0-9+/=]+)$`);
  const endRe = new RegExp(`(?:^|\\s)${FRAME_END} (\\d+)$`);
  for (const l of lines.slice(begin + 1)) {
    const end = endRe.exec(l);
    if (end) {
      count = Number(end[1]);
      break;
    }
    const m = lineRe.exec(l);
    if (m && !data.has(Number(m[1]))) data.set(Number(m[1]), m[2]);
  }
  if (count === undefined) throw frameError(what, `is truncated: no ${FRAME_END} line after ${data.size} data lines (the guest stopped printing, or the log ends early)`);
  const missing: number[] = [];
  for (let n = 1; n <= count; n++) if (!data.has(n)) missing.push(n);
  if (missing.length) throw frameError(what, `lacks ${missing.length} of its ${count} lines (first: line ${missing[0]})`);
  const payload = Buffer.from([...Array(count).keys()].map((i) => data.get(i + 1)!).join(''), 'base64');
  const got = createHash('sha256').update(payload).digest('hex');
  if (payload.length !== Number(size) || got !== sum) {
    throw frameError(what, `is corrupted: ${payload.length} bytes with sha256 ${got.slice(0, 16)}…, the guest sent ${size} bytes with sha256 ${sum.slice(0, 16)}…`);
  }
  return payload;
}
