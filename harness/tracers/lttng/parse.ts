// Parsers for what the LTTng 2.13 tools print in the guest. Pure: text in, data
// out; fixtures captured from a real guest are in test/fixtures/lttng/.
import { ParseError } from '../../errors.js';

/** One recording event rule of a channel, as `lttng --mi xml list <session>` reports it. */
export interface MiEventRule {
  name: string;
  /** TRACEPOINT, SYSCALL, KPROBE ... */
  type: string;
  enabled: boolean;
  filter?: string;
}

export interface MiChannel {
  name: string;
  enabled: boolean;
  overwrite: boolean;
  subbufSizeBytes: number;
  numSubbuf: number;
  /** cumulative since the session was created, not per start/stop */
  discardedEvents: number;
  lostPackets: number;
  events: MiEventRule[];
}

export interface MiSession {
  name: string;
  snapshot: boolean;
  /** output directory (empty for snapshot sessions) */
  path: string;
  channels: MiChannel[];
}

const unescapeXml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, d) => String.fromCharCode(Number(d)))
    .replace(/&amp;/g, '&');

/** Text of the first <tag> directly in `xml` (MI nests no element inside itself, except where noted). */
function tag(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? unescapeXml(m[1]) : undefined;
}

function blocks(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g'))].map((m) => m[1]);
}

function num(xml: string, name: string, what: string): number {
  const v = tag(xml, name);
  if (v === undefined || !/^\d+$/.test(v.trim())) throw new ParseError(what, `no numeric <${name}>`);
  return Number(v);
}

/**
 * `lttng --mi xml list <session>`: the kernel domain's channels and their event
 * rules. MI is regular machine output (one <channel> per channel, one <event>
 * per rule, no nesting of either), so a few patterns read it without an XML
 * library.
 */
export function parseMiSession(xml: string): MiSession {
  const what = 'lttng --mi xml list <session>';
  const session = blocks(xml, 'session')[0];
  if (session === undefined) throw new ParseError(what, 'no <session> element (is the session created?)');
  const kernel = blocks(session, 'domain').find((d) => tag(d, 'type') === 'KERNEL');
  const channels = kernel
    ? blocks(kernel, 'channel').map((ch): MiChannel => {
        const attrs = tag(ch, 'attributes') ?? '';
        const eventsXml = tag(ch, 'events') ?? '';
        return {
          name: tag(ch, 'name') ?? '',
          enabled: tag(ch, 'enabled') === 'true',
          overwrite: tag(attrs, 'overwrite_mode') === 'OVERWRITE',
          subbufSizeBytes: num(attrs, 'subbuffer_size', what),
          numSubbuf: num(attrs, 'subbuffer_count', what),
          discardedEvents: num(attrs, 'discarded_events', what),
          lostPackets: num(attrs, 'lost_packets', what),
          events: blocks(eventsXml, 'event').map((e) => ({
            name: tag(e, 'name') ?? '',
            type: tag(e, 'type') ?? '',
            enabled: tag(e, 'enabled') === 'true',
            filter: tag(e, 'filter_expression') ?? tag(e, 'filter') ?? undefined,
          })),
        };
      })
    : [];
  return {
    name: tag(session, 'name') ?? '',
    snapshot: tag(session, 'snapshot_mode') === '1',
    path: tag(session, 'path') ?? '',
    channels,
  };
}

/** `lttng --mi xml list -k`: the kernel tracepoints this LTTng build offers (probes loaded). */
export function parseMiAvailableEvents(xml: string): string[] {
  const kernel = blocks(xml, 'domain').find((d) => tag(d, 'type') === 'KERNEL');
  if (!kernel) throw new ParseError('lttng --mi xml list -k', 'no kernel domain (is lttng-sessiond running as root?)');
  return blocks(kernel, 'event').map((e) => tag(e, 'name') ?? '');
}

/** `lttng list -k --syscall` (text): "      read [32/64-bit]" lines after "System calls:". */
export function parseAvailableSyscalls(text: string): string[] {
  const out: string[] = [];
  let inList = false;
  for (const line of text.split('\n')) {
    if (/^System calls:/.test(line)) inList = true;
    else if (inList) {
      const m = /^\s+([a-z0-9_]+) \[(?:32|64|32\/64)-bit\]\s*$/.exec(line);
      if (m) out.push(m[1]);
    }
  }
  return out;
}

/**
 * The recording event rules of `lttng list <session>` (text), per channel:
 * "      sched_switch (loglevel: TRACE_EMERG (0)) (type: tracepoint) [enabled]"
 * "      * (type:syscall) [enabled]" (2.13 prints no space after "type:" here)
 * "      irq_softirq_raise (...) (type: tracepoint) [enabled] [with filter]"
 */
export function parseListText(text: string): { channel: string; name: string; type: string; enabled: boolean; filtered: boolean }[] {
  const out: { channel: string; name: string; type: string; enabled: boolean; filtered: boolean }[] = [];
  let channel = '';
  let inRules = false;
  for (const line of text.split('\n')) {
    const ch = /^- (\S+): \[(enabled|disabled)\]/.exec(line);
    if (ch) {
      channel = ch[1];
      inRules = false;
      continue;
    }
    if (/^\s+(Recording event rules|Event rules):/.test(line)) {
      inRules = true;
      continue;
    }
    if (!inRules) continue;
    const m = /^\s+(\S+) .*\(type: ?([a-z_]+)\)\s*\[(enabled|disabled)\](.*)$/.exec(line);
    if (m) out.push({ channel, name: m[1], type: m[2], enabled: m[3] === 'enabled', filtered: /filter/.test(m[4]) });
    else if (line.trim() === '' || /^\S/.test(line)) inRules = false;
  }
  return out;
}

/** One block of babeltrace2's sink.utils.counter output. */
export interface CounterBlock {
  events: number;
  packetBeginnings: number;
  discardedEventMessages: number;
  discardedPacketMessages: number;
  total: number;
}

const COUNTER_KEYS: Record<string, keyof CounterBlock> = {
  'Event messages': 'events',
  'Event message': 'events',
  'Packet beginning messages': 'packetBeginnings',
  'Packet beginning message': 'packetBeginnings',
  'Discarded event messages': 'discardedEventMessages',
  'Discarded event message': 'discardedEventMessages',
  'Discarded packet messages': 'discardedPacketMessages',
  'Discarded packet message': 'discardedPacketMessages',
};

/**
 * `babeltrace2 <trace> -c sink.utils.counter`. The counter prints a running
 * block every 10,000 events and a final one when the trace ends; the last block
 * is the total. Note: "Discarded ... messages" count gaps, not events.
 */
export function parseCounter(text: string): CounterBlock {
  const done: CounterBlock[] = [];
  let cur: Partial<CounterBlock> = {};
  text.split('\n').forEach((line) => {
    const m = /^\s*(\d+) (.+?)\s*$/.exec(line);
    if (!m) return;
    if (/\(TOTAL\)$/.test(m[2])) {
      done.push({ events: 0, packetBeginnings: 0, discardedEventMessages: 0, discardedPacketMessages: 0, ...cur, total: Number(m[1]) });
      cur = {};
      return;
    }
    const key = COUNTER_KEYS[m[2]];
    if (key) cur[key] = Number(m[1]);
  });
  const last = done.at(-1);
  if (!last) throw new ParseError('babeltrace2 sink.utils.counter', 'no "messages (TOTAL)" line: the trace was not read to its end');
  return last;
}

/** `find <dir> -type f -printf '%s %P\n'`: trace bytes, split into stream data and metadata/index. */
export function parseTraceFiles(text: string): { streamBytes: number; metadataBytes: number; streams: number; files: { path: string; bytes: number }[] } {
  const files: { path: string; bytes: number }[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const m = /^(\d+) (.+)$/.exec(line.trim());
    if (!m) throw new ParseError('trace file list', 'expected "<bytes> <path>"', i + 1, line);
    files.push({ path: m[2], bytes: Number(m[1]) });
  });
  // metadata is the CTF schema, index/ the per-packet index: neither is trace data
  const isStream = (p: string) => !/(^|\/)metadata$/.test(p) && !/(^|\/)index\//.test(p);
  const streams = files.filter((f) => isStream(f.path));
  return {
    streamBytes: streams.reduce((a, f) => a + f.bytes, 0),
    metadataBytes: files.filter((f) => !isStream(f.path)).reduce((a, f) => a + f.bytes, 0),
    streams: streams.length,
    files,
  };
}

/**
 * The warning `lttng stop` / `lttng destroy` print when a channel lost data:
 * "Warning: 1234 events were discarded, please refer to ..." and
 * "Warning: 1234 events were discarded and 5 packets were lost, please ..." (or only packets).
 */
export function parseStopWarning(text: string): { discardedEvents: number; lostPackets: number } {
  let discardedEvents = 0;
  let lostPackets = 0;
  for (const line of text.split('\n')) {
    if (!/^Warning:/.test(line)) continue;
    const ev = /(\d+) events? (?:were|was) discarded/.exec(line);
    const pk = /(\d+) packets? (?:were|was) lost/.exec(line);
    if (ev) discardedEvents += Number(ev[1]);
    if (pk) lostPackets += Number(pk[1]);
  }
  return { discardedEvents, lostPackets };
}

