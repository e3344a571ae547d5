// Diagnostic, not part of `npm test`: what one TCG thread for every vCPU
// (-accel tcg,thread=single) costs next to QEMU's default multi-threaded TCG
// (issue 11: the alternative to maxcpus=1 against the boot-time int3 race).
// EMULATED numbers: TCG on this host, not hardware.
//
//   flock /tmp/tb-guest.lock npx tsx test/diag/tcg-thread-cost.ts [--order multi,single] [--seconds 5] [--image KEY] [--out DIR]
//
// Each side boots with its own command line (qemu-args.ts: multi-threaded TCG
// adds maxcpus=1 no_ipi_broadcast=1, and the job brings the second CPU online),
// so the comparison is of the two fixes as they run.
// One vanilla boot per side, back to back, the same job: dbench (2 clients, S s,
// 1 iteration) then kernbench (3 objects, no warm-up build, 1 iteration). Reported
// per side: seconds from QEMU start to the first workload (TB-MARK "workload ..."),
// dbench MB/s, kernbench elapsed s, the boot's wall time; then single / multi ratios.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadKernelConfig, loadTracerConfig } from '../../harness/config.js';
import { imageKey, readImageInfo } from '../../harness/image/build.js';
import { recipeFor } from '../../harness/image/recipe.js';
import { buildJob } from '../../harness/job.js';
import { baseCmdline } from '../../harness/machines/qemu-args.js';
import { QemuMachine } from '../../harness/machines/qemu.js';
import { scratchDir } from '../../harness/machines/scratch.js';
import type { Boot } from '../../harness/plan.js';
import type { Workload } from '../../harness/types.js';
import { workloads } from '../../workloads/index.js';

async function main() {
  const { values } = parseArgs({
    options: {
      order: { type: 'string', default: 'multi,single' },
      seconds: { type: 'string', default: '5' },
      image: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const kernel = loadKernelConfig(join(process.cwd(), 'configs/kernels/debian.yaml'));
  const info = readImageInfo(values.image ?? imageKey(recipeFor(kernel)));
  if (!info) throw new Error('no cached image: run a bench first or pass --image <key>');
  const config = loadTracerConfig('vanilla');
  const wl = workloads as unknown as Record<string, Workload>;
  const dbenchParams = wl.dbench.params.parse({ clients: 2, seconds: Number(values.seconds) });
  const kbParams = wl.kernbench.params.parse({ targets: ['kernel/exit.o', 'kernel/time/timer.o', 'fs/dcache.o'], warmupBuild: false });
  const cpus = 2;
  const root = values.out ?? mkdtempSync(join(tmpdir(), 'tb-tcg-thread-'));
  const sides: Record<string, { bootToWorkloadS?: number; dbenchMBs?: number; kernbenchS?: number; wallS: number; status: string; cmdline: string }> = {};
  for (const side of values.order!.split(',') as ('multi' | 'single')[]) {
    const boot: Boot = {
      index: 1,
      round: 1,
      kernel,
      config,
      workloads: [
        { name: 'dbench', params: dbenchParams, warmup: 0, iterations: 1 },
        { name: 'kernbench', params: kbParams, warmup: 0, iterations: 1 },
      ],
      id: `tcg-${side}`,
    };
    const job = buildJob({ boot, driver: null, options: {}, events: [], workloads: wl, cpus });
    const out = join(root, side);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(join(out, 'out'), { recursive: true });
    mkdirSync(join(out, 'ctl/iter'), { recursive: true });
    for (const [rel, content] of Object.entries(job.files)) {
      mkdirSync(dirname(join(out, rel)), { recursive: true });
      writeFileSync(join(out, rel), content);
    }
    // no interference verdicts: every try is kept at once
    for (const it of job.iterations) writeFileSync(join(out, `ctl/iter/${it.workload}-${it.iteration}-1`), 'keep\n');
    const machine = new QemuMachine({ accel: 'tcg', tcgThread: side, scratchDir: scratchDir() });
    const r = await machine.boot({ name: `tracebench-tcg-${side}`, image: info, extraCmdline: [], cpus, memoryMiB: 2048, scratchGiB: 4, jobDir: out, timeoutS: 1800 });
    const read = (p: string) => {
      try {
        return readFileSync(join(out, p), 'utf8');
      } catch {
        return '';
      }
    };
    const metric = (w: string, name: string) => {
      try {
        return wl[w].parse(read(`out/${w}/iter-1/${w}-run.out`)).find((m) => m.name === name)?.value;
      } catch {
        return undefined;
      }
    };
    sides[side] = {
      status: r.status + (r.message ? `: ${r.message}` : ''),
      wallS: r.wallS,
      bootToWorkloadS: r.marks.find((m) => m.text.startsWith('workload '))?.atS,
      dbenchMBs: metric('dbench', 'throughput'),
      kernbenchS: metric('kernbench', 'elapsed'),
      cmdline: baseCmdline('tcg', [], side).join(' '),
    };
    process.stderr.write(`${side}: ${JSON.stringify(sides[side])}\n`);
  }
  const m = sides.multi;
  const s = sides.single;
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? +(a / b).toFixed(3) : undefined);
  console.log(
    JSON.stringify(
      {
        emulated: 'TCG (software emulation) on this host: not hardware numbers',
        sides,
        singleOverMulti: m && s ? { bootToWorkload: ratio(s.bootToWorkloadS, m.bootToWorkloadS), dbenchThroughput: ratio(s.dbenchMBs, m.dbenchMBs), kernbenchElapsed: ratio(s.kernbenchS, m.kernbenchS), wall: ratio(s.wallS, m.wallS) } : undefined,
        share: root,
      },
      null,
      2,
    ),
  );
}

if (process.argv[1]?.endsWith('tcg-thread-cost.ts')) await main();
