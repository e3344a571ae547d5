// The Debian mirror comes from the host's own apt configuration (never written
// into tracebench): the first "deb" source for a Debian release suite that is
// not a security or updates suite. TRACEBENCH_MIRROR or --mirror override it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, TracebenchError } from '../errors.js';

interface Source {
  uris: string[];
  suites: string[];
  components: string[];
}

/** deb822 (.sources) stanzas. */
export function parseDeb822(text: string): Source[] {
  return text
    .split(/\n\s*\n/)
    .map((stanza) => {
      const f: Record<string, string> = {};
      for (const line of stanza.split('\n')) {
        if (line.startsWith('#')) continue;
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
        if (m) f[m[1].toLowerCase()] = m[2];
      }
      if (f.enabled === 'no' || !(f.types ?? '').split(/\s+/).includes('deb')) return null;
      return { uris: (f.uris ?? '').split(/\s+/).filter(Boolean), suites: (f.suites ?? '').split(/\s+/).filter(Boolean), components: (f.components ?? '').split(/\s+/).filter(Boolean) };
    })
    .filter((s): s is Source => s !== null && s.uris.length > 0);
}

/** One-line sources.list entries. */
export function parseSourcesList(text: string): Source[] {
  const out: Source[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (m) out.push({ uris: [m[1]], suites: [m[2]], components: m[3].split(/\s+/).filter(Boolean) });
  }
  return out;
}

const RELEASE_SUITE = /^(stable|testing|unstable|sid|oldstable|buster|bullseye|bookworm|trixie|forky|duke)$/;

export function pickMirror(sources: Source[]): string | undefined {
  const s = sources.find((src) => src.components.includes('main') && src.suites.some((x) => RELEASE_SUITE.test(x)));
  return s?.uris[0];
}

export function hostMirror(aptDir = '/etc/apt'): string {
  const env = process.env.TRACEBENCH_MIRROR;
  if (env) return env;
  const sources: Source[] = [];
  const list = join(aptDir, 'sources.list');
  if (existsSync(list)) sources.push(...parseSourcesList(readFileSync(list, 'utf8')));
  const dir = join(aptDir, 'sources.list.d');
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).sort()) {
      const text = readFileSync(join(dir, f), 'utf8');
      if (f.endsWith('.sources')) sources.push(...parseDeb822(text));
      else if (f.endsWith('.list')) sources.push(...parseSourcesList(text));
    }
  }
  const mirror = pickMirror(sources);
  if (!mirror) {
    throw new TracebenchError({
      message: `found no Debian mirror in ${aptDir}/sources.list or ${aptDir}/sources.list.d/`,
      hint: 'set TRACEBENCH_MIRROR (or --mirror) to a Debian mirror URL',
      exitCode: ExitCode.host,
    });
  }
  return mirror;
}
