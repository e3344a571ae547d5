// Flight-recorder volume from the ring buffer's own packet sequence numbers.
//
// A snapshot holds at most numSubbuf packets per CPU: the newest ones. Every
// packet header carries packet_seq_num = num_subbuf * seq_cnt + subbuf_idx
// (lttng-modules 2.13 src/lttng-ring-buffer-client.h), which counts every
// sub-buffer the CPU's buffer has started, overwritten or not. So the packets a
// CPU produced during one iteration are its newest seq number now minus its
// newest seq number at the previous collect; the ones not in the snapshot were
// overwritten. Packets only switch when full (no switch timer by default), so an
// overwritten packet held about a sub-buffer of records.
import { ParseError } from '../../errors.js';

/** One packet header as the guest dumps it: `packet <stream> <offset> <11 x u64>` (od -t u8 of 88 bytes). */
export interface PacketHeader {
  stream: string;
  offset: number;
  contentBits: number;
  packetBits: number;
  seq: number;
  eventsDiscarded: number;
}

/** CTF magic of an LTTng packet (u32 little endian in the low half of the first u64). */
const CTF_MAGIC = 0xc1fc1fc1;

/**
 * Decode the `packet ...` lines. The 88 bytes are the packed struct packet_header:
 * magic(4) uuid(16) stream_id(4) stream_instance_id(8) | timestamp_begin,
 * timestamp_end, content_size, packet_size, packet_seq_num, events_discarded (8 each).
 * Read as eleven u64: [0] magic + uuid head, [1..2] uuid rest + stream_id,
 * [3] stream_instance_id, [4] timestamp_begin, [5] timestamp_end,
 * [6] content_size, [7] packet_size (both in bits), [8] packet_seq_num,
 * [9] events_discarded, [10] cpu_id + the first bytes after the header.
 */
export function parsePacketHeaders(text: string): PacketHeader[] {
  const out: PacketHeader[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.startsWith('packet ')) return;
    const f = line.trim().split(/\s+/);
    if (f.length !== 14) throw new ParseError('lttng packet headers', 'expected "packet <stream> <offset>" and 11 numbers', i + 1, line);
    const w = f.slice(3).map((x) => BigInt(x));
    if (Number(w[0] & 0xffffffffn) !== CTF_MAGIC) throw new ParseError('lttng packet headers', 'no CTF magic at packet start', i + 1, line);
    out.push({
      stream: f[1],
      offset: Number(f[2]),
      contentBits: Number(w[6]),
      packetBits: Number(w[7]),
      seq: Number(w[8]),
      eventsDiscarded: Number(w[9]),
    });
  });
  return out;
}

export interface SnapshotVolume {
  /** this iteration's packets per stream in the snapshot */
  snapshotPackets: Record<string, number>;
  /** packets each stream started during the iteration (snapshot ones included) */
  producedPackets: Record<string, number>;
  /** packets produced but no longer in the buffer at the snapshot */
  overwrittenPackets: number;
  /** record bytes of this iteration's packets in the snapshot: content sizes minus packet headers */
  snapshotRecordBytes: number;
}

/**
 * Packets produced and overwritten per stream, from this collect's headers and
 * the previous collect's (none before the first iteration: the buffer started
 * empty at seq 0). The session runs across iterations and is never cleared, so a
 * snapshot may still hold packets of earlier iterations: only packets above the
 * previous collect's newest sequence number are this iteration's (the guest cuts
 * the older ones from the files before counting events; here they are skipped).
 */
export function snapshotVolume(now: PacketHeader[], previous: PacketHeader[], headerBytes: number): SnapshotVolume {
  const maxSeq = (hs: PacketHeader[]) => {
    const m: Record<string, number> = {};
    for (const h of hs) m[h.stream] = Math.max(m[h.stream] ?? -1, h.seq);
    return m;
  };
  const prev = maxSeq(previous);
  const fresh = now.filter((h) => h.seq > (prev[h.stream] ?? -1));
  const cur = maxSeq(fresh);
  const snapshotPackets: Record<string, number> = {};
  for (const h of fresh) snapshotPackets[h.stream] = (snapshotPackets[h.stream] ?? 0) + 1;
  const producedPackets: Record<string, number> = {};
  let overwrittenPackets = 0;
  for (const [s, top] of Object.entries(cur)) {
    producedPackets[s] = top - (prev[s] ?? -1);
    overwrittenPackets += Math.max(0, producedPackets[s] - snapshotPackets[s]);
  }
  const snapshotRecordBytes = fresh.reduce((a, h) => a + Math.max(0, h.contentBits / 8 - headerBytes), 0);
  return { snapshotPackets, producedPackets, overwrittenPackets, snapshotRecordBytes };
}
