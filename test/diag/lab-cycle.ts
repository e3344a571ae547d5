// Diagnostic, not part of `npm test`: what one kexec boot cycle on the QEMU lab
// box (test/labbox) costs next to a plain local QEMU boot of the same job
// (issue 12). EMULATED numbers: both sides run under TCG on this host, not hardware.
//
//   flock /tmp/tb-guest.lock npx tsx test/diag/lab-cycle.ts [--configs vanilla,ftrace,ktrace] [--seconds 3] [--clients 2] [--out DIR] [--verbose]
//
// One suite, written once (docs/lab.md "Cost of a kexec boot cycle"): the given
// configurations once each (rounds 1, fixed order, no warm-up, 1 iteration),
// dbench with 2 clients for 3 s, the host-interference checks off (functional
// only, as test/e2e/lab.e2e.test.ts), 2 vCPUs, 3072 MiB (the lab box's own
// memory), TCG forced for the local guest. It runs first through the real
// `bench --machine ssh://root@127.0.0.1:<port>` on a freshly started lab box (the
// box's kernels get TCG_SINGLE_CMDLINE, as in the lab e2e), the box is stopped, then the
// identical suite runs through `bench` on the local QEMU machine. Strictly one
// after the other: never two guests at once.
//
// Printed (and written to DIR/table.md): per configuration, the boot record's
// wallS (one boot cycle: for the lab box the ssh staging, kexec -l, the kernel
// under test, the return to the base OS and the fetch; for QEMU the scratch disk,
// QEMU start to exit), bootToWorkloadS (to the first workload mark) and
// workloadS (inside the workload iterations), lab and QEMU side by side, and the
// lab/QEMU ratio of the wall time; then the means. Below the table: each lab
// boot's kexec -l and kexec-to-return seconds, the whole runs, the box's start.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { bench } from '../../harness/cli/bench.js';
import { ensureImage } from '../../harness/cli/image.js';
import { TCG_SINGLE_CMDLINE } from '../../harness/machines/qemu-args.js';
import { readResultSet } from '../../harness/store/store.js';
import { startLabBox, type LabBox } from '../labbox/labbox.js';

const FUNCTIONAL_ONLY = { minVcpuShare: 0, maxOtherCores: 1024, maxStealFrac: 1, retries: 0 };
const CPUS = 2;
const MEMORY_MIB = 3072;
const SCRATCH_GIB = 2;

type Boot = ReturnType<typeof readResultSet>['manifest']['boots'][number];

interface Side {
  outDir: string;
  accelerator: string;
  boots: Boot[];
  /** manifest startedAt .. finishedAt: the whole bench run (checks, prepare, every boot, the report) */
  runS?: number;
  /** bench() called to returned */
  benchS: number;
}

const mean = (xs: (number | undefined)[]) => {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined;
};
const f1 = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(1));
const f2 = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(2));
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);

async function runSide(suiteFile: string, machine: string, out: string, quiet: boolean): Promise<Side> {
  const t = Date.now();
  const r = await bench({ suite: suiteFile, machine, out, reports: `${out}-reports`, quiet });
  const benchS = (Date.now() - t) / 1000;
  const m = readResultSet(r.outDir).manifest;
  const runS = m.finishedAt ? (Date.parse(m.finishedAt) - Date.parse(m.startedAt)) / 1000 : undefined;
  return { outDir: r.outDir, accelerator: m.accelerator, boots: m.boots.filter((b) => !b.retried), runS, benchS };
}

/** The markdown table: per configuration lab vs QEMU, then the means (pure). */
export function cycleTable(configs: string[], lab: Boot[], qemu: Boot[]): string {
  const by = (bs: Boot[], c: string) => bs.find((b) => b.config === c);
  const rows: string[] = [
    '| config (emulated, TCG) | wall s / boot cycle: lab box | wall s: plain QEMU | lab / QEMU | boot-to-workload s: lab | boot-to-workload s: QEMU | workload s: lab | workload s: QEMU | status lab / QEMU |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const c of configs) {
    const l = by(lab, c);
    const q = by(qemu, c);
    rows.push(`| ${c} | ${f1(l?.wallS)} | ${f1(q?.wallS)} | ${f2(ratio(l?.wallS, q?.wallS))} | ${f1(l?.bootToWorkloadS)} | ${f1(q?.bootToWorkloadS)} | ${f1(l?.workloadS)} | ${f1(q?.workloadS)} | ${l?.status ?? 'none'} / ${q?.status ?? 'none'} |`);
  }
  const pick = (bs: Boot[], k: 'wallS' | 'bootToWorkloadS' | 'workloadS') => mean(configs.map((c) => by(bs, c)?.[k]));
  const [lw, qw] = [pick(lab, 'wallS'), pick(qemu, 'wallS')];
  rows.push(`| **mean** | **${f1(lw)}** | **${f1(qw)}** | **${f2(ratio(lw, qw))}** | ${f1(pick(lab, 'bootToWorkloadS'))} | ${f1(pick(qemu, 'bootToWorkloadS'))} | ${f1(pick(lab, 'workloadS'))} | ${f1(pick(qemu, 'workloadS'))} | |`);
  return rows.join('\n');
}

async function main() {
  const { values } = parseArgs({
    options: {
      configs: { type: 'string', default: 'vanilla,ftrace,ktrace' },
      seconds: { type: 'string', default: '3' },
      clients: { type: 'string', default: '2' },
      out: { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const configs = values.configs!.split(',');
  if (new Set(configs).size !== configs.length) throw new Error(`--configs ${values.configs}: a configuration may appear once`);
  // short: the lab box's QEMU monitor socket lives under it (unix socket paths are limited to 107 bytes)
  const dir = resolve(values.out ?? mkdtempSync('/tmp/tbcyc-'));
  mkdirSync(dir, { recursive: true });
  const quiet = !values.verbose;
  const log = (s: string) => process.stderr.write(`lab-cycle: ${s}\n`);
  const started = new Date();

  const image = await ensureImage({});
  let box: LabBox | undefined;
  let boxStartS: number;
  let lab: Side;
  const suiteFile = join(dir, 'cycle.yaml');
  try {
    const t = Date.now();
    box = await startLabBox({ image, dir: join(dir, 'box'), scratchGiB: SCRATCH_GIB, cpus: CPUS, memoryMiB: MEMORY_MIB });
    boxStartS = (Date.now() - t) / 1000;
    log(`lab box up on 127.0.0.1:${box.port} in ${boxStartS.toFixed(0)} s (${dir}/box)`);
    // one suite for both machines: the lab block is only read by the ssh backend, accel and cpus/memory only by QEMU
    writeFileSync(
      suiteFile,
      stringify({
        name: 'lab-cycle',
        description: 'issue 12: seconds per kexec boot cycle on the QEMU lab box against a plain QEMU boot of the same job (EMULATED, TCG)',
        configs,
        rounds: 1,
        order: 'fixed',
        warmup: 0,
        iterations: 1,
        workloads: [{ name: 'dbench', params: { clients: Number(values.clients), seconds: Number(values.seconds) } }],
        machine: {
          cpus: CPUS,
          memoryMiB: MEMORY_MIB,
          accel: 'tcg',
          bootTimeoutS: 600,
          quiet: FUNCTIONAL_ONLY,
          scratchGiB: SCRATCH_GIB,
          lab: { power: box.powerCommand, console: box.console, identity: box.identity, hostKeyCheck: 'off', scratch: box.disks.scratch, returnTimeoutS: 240, cmdline: [...TCG_SINGLE_CMDLINE] },
        },
      }),
    );
    const uri = `ssh://root@127.0.0.1:${box.port}`;
    log(`lab box run: bench --machine ${uri}`);
    lab = await runSide(suiteFile, uri, join(dir, 'lab'), quiet);
  } finally {
    await box?.stop();
  }
  log('lab box stopped; plain QEMU run: bench --machine qemu');
  const qemu = await runSide(suiteFile, 'qemu', join(dir, 'qemu'), quiet);
  if (qemu.accelerator !== 'tcg') throw new Error(`the local run used ${qemu.accelerator}, not TCG: the comparison is TCG against TCG`);

  const lines = [
    `## Seconds per boot cycle: QEMU lab box (kexec) against plain QEMU, emulated (TCG)`,
    '',
    `${started.toISOString()} .. ${new Date().toISOString()}; ${CPUS} vCPUs, ${MEMORY_MIB} MiB, TCG on both sides; dbench ${values.clients} clients ${values.seconds} s, 1 iteration, no warm-up; configs ${configs.join(', ')}`,
    `lab box: ${lab.accelerator} (${lab.outDir}); plain QEMU: accelerator ${qemu.accelerator} (${qemu.outDir})`,
    '',
    cycleTable(configs, lab.boots, qemu.boots),
    '',
    `lab box, per boot: kexec -l ${lab.boots.map((b) => `${b.config} ${b.details?.kexecLoadS ?? '?'}`).join(', ')} s; kexec to the base OS again ${lab.boots.map((b) => `${b.config} ${b.details?.kexecToReturnS ?? '?'}`).join(', ')} s`,
    `whole runs (bench called to returned; image check, lab prepare, every boot, report): lab box ${f1(lab.benchS)} s (manifest ${f1(lab.runS)} s), plain QEMU ${f1(qemu.benchS)} s (manifest ${f1(qemu.runS)} s); starting the lab box ${f1(boxStartS!)} s, not counted in either`,
    ...[...lab.boots, ...qemu.boots].filter((b) => b.status !== 'finished').map((b) => `not finished: ${b.config} ${b.status}: ${b.message ?? ''}`),
  ];
  const text = lines.join('\n') + '\n';
  writeFileSync(join(dir, 'table.md'), text);
  process.stdout.write(text);
  process.exitCode = [...lab.boots, ...qemu.boots].every((b) => b.status === 'finished') ? 0 : 1;
}

if (process.argv[1]?.endsWith('lab-cycle.ts')) await main();
