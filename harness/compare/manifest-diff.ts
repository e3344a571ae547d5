// Which manifest fields differ between two runs, split into the declared axes
// (what the comparison is about: kernel, lttng-modules, ktrace, tool version)
// and everything else (what must be equal for the comparison to mean anything:
// host, accelerator, machine, workload parameters, armed events, tracer options).
// The seed thread's complaint was exactly this: numbers from different setups
// presented as a comparison of tracers.
import type { Manifest, TracerInfo } from '../store/schema.js';
import { tracers } from '../tracers/index.js';
import type { TracerDriver } from '../types.js';

export interface ManifestDifference {
  /** dotted path in user terms, e.g. "host.cpuModel", "workloads.dbench.params.seconds" */
  field: string;
  baseline: string;
  candidate: string;
}

export interface ManifestComparison {
  /** differences outside the declared axes: comparing across them is refused */
  mismatches: ManifestDifference[];
  /** differences along declared axes: the point of the comparison */
  axisChanges: ManifestDifference[];
  /** axis names declared by either manifest, plus "tool" */
  axes: string[];
}

const ABSENT = '(absent)';

function show(v: unknown): string {
  if (v === undefined) return ABSENT;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Flatten to dotted paths so nested option and parameter changes name their leaf. */
function flatten(value: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) out.set(prefix, {});
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, value);
  }
  return out;
}

function diffValues(field: string, a: unknown, b: unknown): ManifestDifference[] {
  const fa = flatten(a, field, new Map());
  const fb = flatten(b, field, new Map());
  const keys = [...new Set([...fa.keys(), ...fb.keys()])].sort();
  const out: ManifestDifference[] = [];
  for (const k of keys) {
    const va = fa.get(k);
    const vb = fb.get(k);
    if (Array.isArray(va) && Array.isArray(vb) && va.every((x) => typeof x === 'string') && vb.every((x) => typeof x === 'string')) {
      out.push(...diffSets(k, va as string[], vb as string[]));
    } else if (JSON.stringify(va) !== JSON.stringify(vb)) {
      out.push({ field: k, baseline: show(va), candidate: show(vb) });
    }
  }
  return out;
}

/** Event lists: order is irrelevant, and naming the missing and extra events is what helps. */
function diffSets(field: string, a: string[], b: string[]): ManifestDifference[] {
  const sa = new Set(a);
  const sb = new Set(b);
  const onlyA = [...sa].filter((x) => !sb.has(x)).sort();
  const onlyB = [...sb].filter((x) => !sa.has(x)).sort();
  if (onlyA.length === 0 && onlyB.length === 0) return [];
  return [{ field, baseline: onlyA.length ? `only here: ${onlyA.join(', ')}` : '(subset)', candidate: onlyB.length ? `only here: ${onlyB.join(', ')}` : '(subset)' }];
}

function byName<T>(items: T[], key: (t: T) => string): Record<string, T> {
  return Object.fromEntries(items.map((i) => [key(i), i]));
}

/** The axis a tracer's version belongs to, as its driver declares it (ftrace is part of the kernel). */
function tracerAxis(tracer: string): string {
  const d = (tracers as Record<string, TracerDriver>)[tracer];
  return d?.versionAxis ?? d?.sourceAxis?.step ?? tracer;
}

function declaredAxes(a: Manifest, b: Manifest): Set<string> {
  return new Set(['tool', ...Object.keys(a.axes ?? {}), ...Object.keys(b.axes ?? {})]);
}

function split(diffs: ManifestDifference[], isAxis: boolean, into: ManifestComparison): void {
  (isAxis ? into.axisChanges : into.mismatches).push(...diffs);
}

/** Tracer records without version: versions are along the tracer's axis, the rest must match. */
function tracerRest(t: TracerInfo | undefined): Record<string, unknown> | undefined {
  if (!t) return undefined;
  const { version: _v, verified: _ok, ...rest } = t;
  return rest;
}

export function compareManifests(a: Manifest, b: Manifest): ManifestComparison {
  const axes = declaredAxes(a, b);
  const r: ManifestComparison = { mismatches: [], axisChanges: [], axes: [...axes].sort() };

  split(diffValues('tool', { version: a.tool.version, gitSha: a.tool.gitSha }, { version: b.tool.version, gitSha: b.tool.gitSha }), true, r);
  split(diffValues('axes', a.axes ?? {}, b.axes ?? {}), true, r);

  // The host name is not compared: a lab may replace a machine by an identical one;
  // its CPU, size and QEMU are what change the numbers. Host kernel is left out for
  // the same reason as unattended upgrades: it changes weekly without moving results
  // the way QEMU's version does under TCG.
  const host = (m: Manifest) => m.host && { cpuModel: m.host.cpuModel, cores: m.host.cores, memoryMiB: m.host.memoryMiB, qemuVersion: m.host.qemuVersion, babeltrace2Version: m.host.babeltrace2Version };
  split(diffValues('host', host(a), host(b)), false, r);
  split(diffValues('accelerator', a.accelerator, b.accelerator), false, r);
  // the example QEMU argv names image paths (they follow the axes) and accelReason is
  // prose; the kernel command line that matters is compared per kernel below
  const machine = (m: Manifest) => m.machine && Object.fromEntries(Object.entries(m.machine).filter(([k]) => k !== 'qemuArgsExample' && k !== 'accelReason'));
  split(diffValues('machine', machine(a), machine(b)), false, r);
  split(diffValues('source', a.source, b.source), false, r);
  split(diffValues('suite.name', a.suite.name, b.suite.name), false, r);
  split(diffValues('scratch', a.scratch, b.scratch), false, r);
  split(diffValues('instrumentation', a.instrumentation, b.instrumentation), false, r);

  const wa = byName(a.workloads, (w) => w.name);
  const wb = byName(b.workloads, (w) => w.name);
  for (const name of [...new Set([...Object.keys(wa), ...Object.keys(wb)])].sort()) {
    split(diffValues(`workloads.${name}.params`, wa[name]?.params, wb[name]?.params), false, r);
    // a workload's own version (dbench 4.0 vs 4.1) is not one of our axes: it changes the work
    split(diffValues(`workloads.${name}.version`, wa[name]?.version, wb[name]?.version), false, r);
  }

  const ta = byName(a.tracers, (t) => t.config);
  const tb = byName(b.tracers, (t) => t.config);
  for (const config of [...new Set([...Object.keys(ta), ...Object.keys(tb)])].sort()) {
    split(diffValues(`tracers.${config}`, tracerRest(ta[config]), tracerRest(tb[config])), false, r);
    const tracer = ta[config]?.tracer ?? tb[config]?.tracer ?? config;
    split(diffValues(`tracers.${config}.version`, ta[config]?.version, tb[config]?.version), axes.has(tracerAxis(tracer)), r);
  }

  // Kernels: with one kernel per run they are matched to each other whatever their
  // names; with several, by name.
  const kernelIsAxis = axes.has('kernel');
  if (a.kernels.length === 1 && b.kernels.length === 1) {
    const { cmdline: ca, ...ka } = a.kernels[0]!;
    const { cmdline: cb, ...kb } = b.kernels[0]!;
    split(diffValues('kernels[0]', ka, kb), kernelIsAxis, r);
    split(diffValues('kernels[0].cmdline', ca, cb), false, r);
  } else {
    const ka = byName(a.kernels, (k) => k.name);
    const kb = byName(b.kernels, (k) => k.name);
    for (const name of [...new Set([...Object.keys(ka), ...Object.keys(kb)])].sort()) {
      const { cmdline: ca, ...ra } = ka[name] ?? {};
      const { cmdline: cb, ...rb } = kb[name] ?? {};
      split(diffValues(`kernels.${name}`, ka[name] ? ra : undefined, kb[name] ? rb : undefined), kernelIsAxis, r);
      split(diffValues(`kernels.${name}.cmdline`, ca, cb), false, r);
    }
  }
  return r;
}

/** The differing fields that are not declared axes (what a comparison is refused for). */
export function manifestDifferences(a: Manifest, b: Manifest): ManifestDifference[] {
  return compareManifests(a, b).mismatches;
}
