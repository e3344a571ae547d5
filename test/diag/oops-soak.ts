// Diagnostic, not part of `npm test` (not matched by test/*.test.ts or
// test/e2e/*.test.ts): the proof behind issue 11's "zero oopses in at least 40
// consecutive TCG boots across all tracers" (docs/reliability.md, "TCG oops: root cause").
//
//   flock /tmp/tb-guest.lock npx tsx test/diag/oops-soak.ts [--rounds 4] [--seconds 2] [--out DIR] [--configs a,b,...]
//
// Runs the real `bench` (harness/cli/bench.ts) under TCG on a tiny suite: every
// tracer configuration of configs/tracers/*.yaml once per round (rounds x 11 boots;
// 4 rounds = 44 boots), seeded random order within each round, dbench with 2
// clients for a few seconds, one iteration, no warm-up, the host-interference
// checks off (test/e2e/helpers.ts FUNCTIONAL_ONLY: this counts oopses, not
// slowdowns). Then it greps every raw/*/console.log (retried attempts included:
// a panicked boot's first attempt keeps its own raw directory) for
// Oops|BUG:|int3|Kernel panic|general protection, prints the counts per
// configuration, and exits 1 if any console matched. `--out` of an interrupted
// soak resumes it (bench --resume).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { bench } from '../../harness/cli/bench.js';
import { readManifest } from '../../harness/store/store.js';

const OOPS = /Oops|BUG:|int3|Kernel panic|general protection/;
const FUNCTIONAL_ONLY = { minVcpuShare: 0, maxOtherCores: 1024, maxStealFrac: 1, retries: 0 };

export interface ConsoleScan {
  raw: string;
  config: string;
  /** lines matching OOPS */
  hits: string[];
  /** the job's `online=` line (out/boot/cpus.out): which CPUs were up when the job ran */
  online?: string;
  cmdline?: string;
}

/** Every raw/<boot>/console.log of a result directory, its configuration (from job.sh) and its oops lines. */
export function scanConsoles(outDir: string): ConsoleScan[] {
  const rawDir = join(outDir, 'raw');
  const out: ConsoleScan[] = [];
  for (const d of readdirSync(rawDir).sort()) {
    const consolePath = join(rawDir, d, 'console.log');
    if (!existsSync(consolePath)) continue;
    const job = existsSync(join(rawDir, d, 'job.sh')) ? readFileSync(join(rawDir, d, 'job.sh'), 'utf8') : '';
    const config = /config (\S+),/.exec(job)?.[1] ?? '?';
    const read = (p: string) => (existsSync(join(rawDir, d, p)) ? readFileSync(join(rawDir, d, p), 'utf8') : '');
    const online = /^online=(.*)$/m.exec(read('out/boot/cpus.out'))?.[1];
    const cmdline = /^cmdline=(.*)$/m.exec(read('out/boot/scratch.out'))?.[1];
    const hits = readFileSync(consolePath, 'utf8').split('\n').filter((l) => OOPS.test(l)).map((l) => l.trim());
    out.push({ raw: d, config, hits, online, cmdline });
  }
  return out;
}

async function main() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '4' },
      seconds: { type: 'string', default: '2' },
      out: { type: 'string' },
      configs: { type: 'string' },
    },
  });
  const configs = values.configs
    ? values.configs.split(',')
    : readdirSync('configs/tracers')
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => f.replace(/\.yaml$/, ''))
        .sort();
  const dir = resolve(values.out ?? join('/tmp', `tb-oops-soak-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`));
  mkdirSync(dir, { recursive: true });
  const suiteFile = join(dir, 'suite.yaml');
  const outDir = join(dir, 'results');
  const resume = existsSync(join(outDir, 'manifest.json'));
  if (!resume) {
    writeFileSync(
      suiteFile,
      stringify({
        name: 'oops-soak',
        description: 'issue 11: consecutive TCG boots of every tracer configuration, counted for oopses',
        kernels: ['debian'],
        configs,
        instrumentation: 'default',
        rounds: Number(values.rounds),
        warmup: 0,
        iterations: 1,
        workloads: [{ name: 'dbench', params: { clients: 2, seconds: Number(values.seconds) } }],
        order: 'random',
        machine: { cpus: 2, memoryMiB: 2048, accel: 'tcg', bootTimeoutS: 600, quiet: FUNCTIONAL_ONLY },
      }),
    );
  }
  const started = new Date();
  process.stderr.write(`oops soak: ${configs.length} configs x ${values.rounds} rounds -> ${outDir}${resume ? ' (resuming)' : ''}\n`);
  const r = await bench({ suite: suiteFile, out: outDir, reports: join(dir, 'reports'), resume, accel: 'tcg' });
  const manifest = readManifest(r.outDir);
  const scans = scanConsoles(r.outDir);
  const per = new Map<string, { consoles: number; finished: number; oopsConsoles: number; lines: number }>();
  for (const c of configs) per.set(c, { consoles: 0, finished: 0, oopsConsoles: 0, lines: 0 });
  for (const s of scans) {
    const p = per.get(s.config) ?? { consoles: 0, finished: 0, oopsConsoles: 0, lines: 0 };
    p.consoles++;
    if (s.hits.length) p.oopsConsoles++;
    p.lines += s.hits.length;
    per.set(s.config, p);
  }
  for (const b of manifest.boots) if (b.status === 'finished') per.get(b.config)!.finished++;
  const rows = [...per.entries()].map(([c, p]) => `${c.padEnd(18)} ${String(p.consoles).padStart(8)} ${String(p.finished).padStart(8)} ${String(p.oopsConsoles).padStart(13)} ${String(p.lines).padStart(10)}`);
  const total = scans.length;
  const bad = scans.filter((s) => s.hits.length);
  const notOnline = scans.filter((s) => s.online !== '0-1');
  const args = (manifest.machine?.qemuArgsExample as string[] | undefined) ?? [];
  const accel = args.includes('-accel') ? args[args.indexOf('-accel') + 1] : (args[args.indexOf('-machine') + 1] ?? '?');
  const lines = [
    `oops soak ${started.toISOString()} .. ${new Date().toISOString()}: ${r.outDir}`,
    `accelerator ${manifest.accelerator}; QEMU ${accel}; kernel command line of a boot: ${scans.find((s) => s.cmdline)?.cmdline ?? '?'}`,
    `boots recorded ${manifest.boots.length} (finished ${manifest.boots.filter((b) => b.status === 'finished').length}, retried ${manifest.boots.filter((b) => b.retried).length}); consoles scanned ${total}`,
    `CPUs online when the job started != 0-1: ${notOnline.length}${notOnline.length ? ` (${notOnline.map((s) => `${s.raw}: ${s.online ?? 'none'}`).join(', ')})` : ''}`,
    '',
    `config             consoles finished consoles-oops oops-lines`,
    ...rows,
    `${'total'.padEnd(18)} ${String(total).padStart(8)} ${String(manifest.boots.filter((b) => b.status === 'finished').length).padStart(8)} ${String(bad.length).padStart(13)} ${String(bad.reduce((n, s) => n + s.hits.length, 0)).padStart(10)}`,
    ...bad.flatMap((s) => [``, `${s.raw} (${s.config}):`, ...s.hits.slice(0, 10).map((h) => `  ${h}`)]),
    ...manifest.boots.filter((b) => b.status !== 'finished').map((b) => `boot ${b.boot} ${b.config} attempt ${b.attempt ?? 1}: ${b.status} ${b.message ?? ''}`),
  ];
  const text = lines.join('\n') + '\n';
  writeFileSync(join(dir, 'soak.txt'), text);
  process.stdout.write(text);
  process.exitCode = bad.length ? 1 : 0;
}

if (process.argv[1]?.endsWith('oops-soak.ts')) await main();
