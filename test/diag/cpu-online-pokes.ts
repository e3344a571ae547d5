// Diagnostic, not part of `npm test`: does bringing a CPU online patch kernel text?
// (issue 11, the boot-time "Oops: int3" under multi-threaded TCG).
//
//   flock /tmp/tb-guest.lock npx tsx test/diag/cpu-online-pokes.ts [--boots N] [--single] [--extra w1,w2] [--image KEY] [--out DIR]
//
// A multi-threaded TCG guest (qemu-args.ts TCG_CMDLINE, tcgThread 'multi') boots with one CPU (maxcpus=1) so the
// kernel's own boot-time patching (initcalls) cannot race a second vCPU, and the
// job brings the others online first thing (job.ts onlineCpusLines). That is only
// a fix if onlining itself does not patch text while the CPU that is already up
// runs: a static key flipped on CPU up would be the same race again. Boots
// multi-threaded TCG (--single: one TCG thread).
//
// The job here arms the same counter as text-pokes.ts (a kprobe event on
// text_poke_bp_batch: every live patch of kernel text on x86 6.12, jump labels,
// static calls, ftrace) *before* any other CPU is online, plus probes naming what
// is switched: alternatives_enable_smp (the switch from the uniprocessor lock
// prefixes a maxcpus=1 kernel boots with, done by plain text_poke while only the
// boot CPU is online), static_key_enable/disable_cpuslocked (the key's symbol)
// and __static_call_update. It then runs
// the very lines every job runs (onlineCpusLines), waits 5 s for deferred hotplug
// work (the cpuset/sched-domain rebuild is a work item), and counts hits per phase.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadKernelConfig } from '../../harness/config.js';
import { imageKey, readImageInfo } from '../../harness/image/build.js';
import { recipeFor } from '../../harness/image/recipe.js';
import { onlineCpusLines } from '../../harness/job.js';
import { baseCmdline } from '../../harness/machines/qemu-args.js';
import { QemuMachine } from '../../harness/machines/qemu.js';
import { scratchDir } from '../../harness/machines/scratch.js';
import { armCounter, countPhases } from './text-pokes.js';

const T = '/sys/kernel/tracing';
const I = `${T}/instances/pokes`;
const phase = (what: string) => `echo "tb-phase ${what}" > ${I}/trace_marker`;

export function onlineJob(cpus: number): string {
  return [
    '#!/bin/sh',
    'set -u',
    'TB=/tb',
    'mark() { echo "TB-MARK $* up=$(cut -d\' \' -f1 /proc/uptime)" > /dev/console; }',
    'mark job-start',
    'echo "before: online=$(cat /sys/devices/system/cpu/online) nproc=$(nproc) cmdline=$(cat /proc/cmdline)" > $TB/out/cpus.txt',
    '{',
    ...armCounter.map((l) => `  ${l}`),
    // the SMP switch (plain text_poke of the lock prefixes, with one CPU online: the kernel BUG()s otherwise)
    `  echo "p:tbpoke/smp alternatives_enable_smp" >> ${T}/kprobe_events && echo 1 > ${I}/events/tbpoke/smp/enable || echo "no alternatives_enable_smp probe"`,
    // which static keys flip (their symbol), and static calls
    `  echo "p:tbpoke/keyon static_key_enable_cpuslocked key=%di:symbol" >> ${T}/kprobe_events && echo 1 > ${I}/events/tbpoke/keyon/enable || echo "no static_key_enable_cpuslocked probe"`,
    `  echo "p:tbpoke/keyoff static_key_disable_cpuslocked key=%di:symbol" >> ${T}/kprobe_events && echo 1 > ${I}/events/tbpoke/keyoff/enable || echo "no static_key_disable_cpuslocked probe"`,
    `  echo "p:tbpoke/scall __static_call_update key=%di:symbol func=%si:symbol" >> ${T}/kprobe_events && echo 1 > ${I}/events/tbpoke/scall/enable || echo "no __static_call_update probe"`,
    '} > $TB/out/arm.log 2>&1',
    'sleep 1',
    phase('online begin'),
    '( set -e',
    ...onlineCpusLines(cpus).map((l) => `  ${l}`),
    ') > $TB/out/online.out 2> $TB/out/online.err; echo "rc=$?" >> $TB/out/online.out',
    phase('online end'),
    phase('settle begin'),
    'sleep 5',
    phase('settle end'),
    'echo "after: online=$(cat /sys/devices/system/cpu/online) nproc=$(nproc)" >> $TB/out/cpus.txt',
    `echo 0 > ${I}/tracing_on`,
    `cat ${I}/trace > $TB/out/pokes.trace`,
    'dmesg > $TB/out/dmesg.txt',
    'mark job-end',
    'exit 0',
    '',
  ].join('\n');
}

/** SMP-switch, static key and static call hits per phase, with the first frames of their stacks. */
export function countOthers(trace: string): { phase: string; event: string; callers: string[] }[] {
  const out: { phase: string; event: string; callers: string[] }[] = [];
  let ph = 'before-online';
  let cur: { phase: string; event: string; callers: string[] } | undefined;
  let stack: string[] = [];
  const flush = () => {
    if (cur && stack.length) cur.callers.push(stack.slice(0, 6).join(' < '));
    stack = [];
    cur = undefined;
  };
  for (const line of trace.split('\n')) {
    const m = /tracing_mark_write: tb-phase (\S+) (begin|end)/.exec(line);
    if (m) {
      flush();
      ph = m[2] === 'begin' ? m[1] : `after-${m[1]}`;
      continue;
    }
    const e = /: (smp|batch|keyon|keyoff|scall): (.*)$/.exec(line);
    if (e) {
      flush();
      if (e[1] !== 'batch') out.push((cur = { phase: ph, event: `${e[1]} ${e[2].replace(/^\(\S+\)\s*/, '')}`.trim(), callers: [] }));
      continue;
    }
    const f = /^\s*=> (\S+)/.exec(line);
    if (f && cur) stack.push(f[1].replace(/\+0x[0-9a-f]+\/0x[0-9a-f]+$/, ''));
  }
  flush();
  return out;
}

async function main() {
  const { values } = parseArgs({
    options: {
      boots: { type: 'string', default: '1' },
      single: { type: 'boolean', default: false },
      image: { type: 'string' },
      out: { type: 'string' },
      // more kernel command line words, comma-separated (e.g. no_ipi_broadcast=1)
      extra: { type: 'string' },
    },
  });
  const kernel = loadKernelConfig(join(process.cwd(), 'configs/kernels/debian.yaml'));
  const info = readImageInfo(values.image ?? imageKey(recipeFor(kernel)));
  if (!info) throw new Error(`no cached image ${values.image ?? 'for configs/kernels/debian.yaml'}: run a bench or \`image build\` first, or pass --image <key>`);
  const cpus = 2;
  // the diagnostic needs maxcpus=1 whatever the command line of the thread mode has
  const thread = values.single ? 'single' : 'multi';
  const extra = [...(baseCmdline('tcg', [], thread).includes('maxcpus=1') ? [] : ['maxcpus=1']), ...(values.extra ? values.extra.split(',') : [])];
  const results = [];
  for (let b = 1; b <= Number(values.boots); b++) {
    const out = join(values.out ?? mkdtempSync(join(tmpdir(), 'tb-online-pokes-')), `boot-${b}`);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(join(out, 'out'), { recursive: true });
    writeFileSync(join(out, 'job.sh'), onlineJob(cpus));
    const r = await new QemuMachine({ accel: 'tcg', tcgThread: thread, scratchDir: scratchDir() }).boot({
      name: `tracebench-online-pokes-${b}`,
      image: info,
      extraCmdline: extra,
      cpus,
      memoryMiB: 2048,
      scratchGiB: 0,
      jobDir: out,
      timeoutS: 600,
    });
    const read = (p: string) => {
      try {
        return readFileSync(join(out, p), 'utf8');
      } catch {
        return '';
      }
    };
    const trace = read('out/pokes.trace');
    const consoleText = read('console.log');
    const dmesg = read('out/dmesg.txt');
    results.push({
      boot: b,
      status: r.status,
      message: r.message,
      share: out,
      cpus: read('out/cpus.txt').trim().split('\n'),
      online: read('out/online.out').trim(),
      onlineErr: read('out/online.err').trim(),
      arm: read('out/arm.log').trim(),
      batches: countPhases(trace),
      named: countOthers(trace),
      dmesg: dmesg.split('\n').filter((l) => /SMP|smpboot|CPU1|maxcpus|TSC|sched_clock|clocksource|alternatives/i.test(l)),
      oops: consoleText.split('\n').filter((l) => /Oops|BUG:|int3|Kernel panic|general protection/.test(l)),
    });
  }
  console.log(JSON.stringify(results, null, 2));
}

if (process.argv[1]?.endsWith('cpu-online-pokes.ts')) await main();
