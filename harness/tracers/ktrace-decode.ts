// Decoder for ktrace's debugfs ABI (ktrace/ABI.md): the `info` file and the
// records read from buffers/cpuN. Pure functions: bytes and text in, data out.
import { ExitCode, ParseError, TracebenchError } from '../errors.js';

/** How one payload field is stored, from its printf conversion (seed conventions, x86_64). */
export type FieldKind = 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'i64' | 'u64' | 'string';

export interface KtraceField {
  /** from the `name=` before the conversion; `args[0]`, `args[1]` ... for a comma-separated list */
  name: string;
  /** the conversion as written, e.g. "%lx" */
  conv: string;
  kind: FieldKind;
}

export interface KtraceEventFormat {
  id: number;
  name: string;
  format: string;
  fields: KtraceField[];
  enabled: boolean;
}

export interface KtraceInfo {
  version: string;
  events: KtraceEventFormat[];
}

export type FieldValue = number | bigint | string;

export interface KtraceRecord {
  /** ring-buffer clock, ns (trace_clock_local: per-CPU sched_clock) */
  ts: bigint;
  cpu?: number;
  id: number;
  name: string;
  fields: { name: string; value: FieldValue }[];
}

/** The id of the marker the reader inserts after the ring buffer overwrote records. */
export const KTRACE_LOST_ID = 0xffff;
/** Framing of one record: u64 ts, u16 payload length, u16 id. */
export const KTRACE_RECORD_HEADER_BYTES = 12;

/** A buffer that does not follow the framing; `offset` is the byte where decoding stopped. */
export class KtraceDecodeError extends TracebenchError {
  readonly offset: number;
  constructor(offset: number, message: string) {
    super({ message: `ktrace buffer: byte offset ${offset}: ${message}`, exitCode: ExitCode.guest });
    this.name = 'KtraceDecodeError';
    this.offset = offset;
  }
}

const SIZE: Record<FieldKind, number> = { u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, i64: 8, u64: 8, string: 0 };

// flags, width, then the seed's qualifiers (h, l, ll) and conversion
const CONV = /%([-+ #0]*)(\d*)(hh|h|ll|l)?([cspdiouxX%])/g;

/** Field layout of a payload format; throws on a conversion the seed's conventions do not define. */
export function parseFormat(format: string): KtraceField[] {
  const raw: { name: string | undefined; conv: string; kind: FieldKind }[] = [];
  for (const m of format.matchAll(CONV)) {
    const [conv, , , qual = '', c] = m;
    if (c === '%') continue;
    const before = format.slice(0, m.index);
    const named = /(\w+)=$/.exec(before);
    raw.push({ name: named?.[1], conv, kind: kindOf(qual, c, format) });
  }
  const unsupported = format.replace(CONV, '').indexOf('%');
  if (unsupported >= 0) throw new ParseError('ktrace format', `unsupported conversion in ${JSON.stringify(format)}`);
  // "args=%lx,%lx" names its values args[0], args[1]; a lone unnamed value gets its position
  return raw.map((f, i) => {
    if (f.name !== undefined) {
      const listed = raw[i + 1] !== undefined && raw[i + 1].name === undefined;
      return { name: listed ? `${f.name}[0]` : f.name, conv: f.conv, kind: f.kind };
    }
    let j = i;
    while (j > 0 && raw[j].name === undefined) j--;
    const base = raw[j].name;
    return { name: base === undefined ? `f${i}` : `${base}[${i - j}]`, conv: f.conv, kind: f.kind };
  });
}

function kindOf(qual: string, c: string, format: string): FieldKind {
  if (c === 's') return 'string';
  if (c === 'c') return 'u8';
  if (c === 'p') return 'u64';
  const signed = c === 'd' || c === 'i';
  if (qual === 'l' || qual === 'll') return signed ? 'i64' : 'u64';
  if (qual === 'h') return signed ? 'i16' : 'u16';
  if (qual === 'hh') throw new ParseError('ktrace format', `%hh is not a ktrace conversion in ${JSON.stringify(format)}`);
  return signed ? 'i32' : 'u32';
}

const INFO_LINE = /^name '([^']*)' format '([^']*)' id (\d+) (enabled|disabled)$/;

/** Parse the text of /sys/kernel/debug/ktrace/info. */
export function parseInfo(text: string): KtraceInfo {
  const lines = text.split('\n');
  let version: string | undefined;
  const events: KtraceEventFormat[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const v = /^version (\S+)$/.exec(line);
    if (v) {
      if (version !== undefined) throw new ParseError('ktrace info', 'second version line', i + 1, line);
      version = v[1];
      return;
    }
    const m = INFO_LINE.exec(line);
    if (!m) throw new ParseError('ktrace info', 'not an event line', i + 1, line);
    if (version === undefined) throw new ParseError('ktrace info', 'event line before the version line', i + 1, line);
    const id = Number(m[3]);
    if (id >= KTRACE_LOST_ID) throw new ParseError('ktrace info', `id ${id} is reserved`, i + 1, line);
    if (events.some((e) => e.id === id || e.name === m[1])) throw new ParseError('ktrace info', 'duplicate event id or name', i + 1, line);
    let fields: KtraceField[];
    try {
      fields = parseFormat(m[2]);
    } catch (e) {
      throw new ParseError('ktrace info', (e as Error).message, i + 1, line);
    }
    events.push({ id, name: m[1], format: m[2], fields, enabled: m[4] === 'enabled' });
  });
  if (version === undefined) throw new ParseError('ktrace info', 'no "version X" line');
  return { version, events };
}

/**
 * Decode the bytes read from one buffers/cpuN file into records. Every record
 * must be complete and its payload must be exactly what its format describes.
 */
export function decodeBuffer(bytes: Buffer, formats: KtraceInfo | KtraceEventFormat[], opts: { cpu?: number } = {}): KtraceRecord[] {
  const byId = new Map((Array.isArray(formats) ? formats : formats.events).map((e) => [e.id, e]));
  const out: KtraceRecord[] = [];
  let off = 0;
  while (off < bytes.length) {
    if (bytes.length - off < KTRACE_RECORD_HEADER_BYTES) {
      throw new KtraceDecodeError(off, `truncated record header (${bytes.length - off} of ${KTRACE_RECORD_HEADER_BYTES} bytes)`);
    }
    const ts = bytes.readBigUInt64LE(off);
    const len = bytes.readUInt16LE(off + 8);
    const id = bytes.readUInt16LE(off + 10);
    const start = off + KTRACE_RECORD_HEADER_BYTES;
    const end = start + len;
    if (end > bytes.length) throw new KtraceDecodeError(off, `record id ${id} claims ${len} payload bytes, only ${bytes.length - start} left`);
    const cpu = opts.cpu === undefined ? {} : { cpu: opts.cpu };
    if (id === KTRACE_LOST_ID) {
      if (len !== 8) throw new KtraceDecodeError(off, `lost-events marker with ${len} payload bytes, expected 8`);
      out.push({ ts, ...cpu, id, name: 'lost', fields: [{ name: 'count', value: bytes.readBigUInt64LE(start) }] });
    } else {
      const ev = byId.get(id);
      if (!ev) throw new KtraceDecodeError(off, `unknown event id ${id}`);
      out.push({ ts, ...cpu, id, name: ev.name, fields: decodePayload(bytes, start, end, ev) });
    }
    off = end;
  }
  return out;
}

function decodePayload(b: Buffer, start: number, end: number, ev: KtraceEventFormat): { name: string; value: FieldValue }[] {
  let p = start;
  const fields = ev.fields.map((f) => {
    if (f.kind === 'string') {
      const nul = b.indexOf(0, p);
      if (nul < 0 || nul >= end) throw new KtraceDecodeError(p, `${ev.name}.${f.name}: string not NUL-terminated inside the payload`);
      const value = b.toString('latin1', p, nul);
      p = nul + 1;
      return { name: f.name, value };
    }
    const size = SIZE[f.kind];
    if (p + size > end) throw new KtraceDecodeError(p, `${ev.name}.${f.name}: payload ends ${p + size - end} byte(s) short`);
    const value = readNumber(b, p, f.kind);
    p += size;
    return { name: f.name, value };
  });
  if (p !== end) throw new KtraceDecodeError(p, `${ev.name}: ${end - p} payload byte(s) not described by its format`);
  return fields;
}

function readNumber(b: Buffer, p: number, kind: Exclude<FieldKind, 'string'>): number | bigint {
  switch (kind) {
    case 'u8':
      return b.readUInt8(p);
    case 'i16':
      return b.readInt16LE(p);
    case 'u16':
      return b.readUInt16LE(p);
    case 'i32':
      return b.readInt32LE(p);
    case 'u32':
      return b.readUInt32LE(p);
    case 'i64':
      return b.readBigInt64LE(p);
    case 'u64':
      return b.readBigUInt64LE(p);
  }
}

/** One field of a decoded record by name; throws when the record has no such field. */
export function field(rec: KtraceRecord, name: string): FieldValue {
  const f = rec.fields.find((x) => x.name === name);
  if (!f) throw new Error(`ktrace record ${rec.name} has no field ${name}`);
  return f.value;
}

/**
 * Split the driver's teardown output ("== cpuN" then one base64 line per CPU)
 * into each CPU's buffer bytes, ready for decodeBuffer.
 */
export function parseBufferDump(raw: string): { cpu: number; bytes: Buffer }[] {
  const out: { cpu: number; bytes: Buffer }[] = [];
  const lines = raw.split('\n');
  lines.forEach((line, i) => {
    const head = /^== cpu(\d+)$/.exec(line);
    if (!head) return;
    const data = (lines[i + 1] ?? '').trim();
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data)) throw new ParseError('ktrace buffer dump', 'not base64', i + 2, data.slice(0, 40));
    out.push({ cpu: Number(head[1]), bytes: Buffer.from(data, 'base64') });
  });
  if (out.length === 0) throw new ParseError('ktrace buffer dump', 'no "== cpuN" sections');
  return out;
}
