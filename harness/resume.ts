// What may be resumed: a result directory continues only the run that would start
// now. A different suite definition, seed or image would mix two experiments in
// one result set, so `--resume` refuses and names each difference.
import type { Manifest } from './store/schema.js';

export interface RunIdentity {
  /** the suite definition as the manifest records it (names for kernels, configs, instrumentation) */
  definition: unknown;
  /** image key per kernel name */
  imageKeys: Record<string, string>;
}

/** Stable JSON: key order does not make two equal definitions differ. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The fields of two suite definitions that differ, as "field: recorded -> now". */
function definitionDiff(recorded: unknown, now: unknown, path = 'suite'): string[] {
  if (canonical(recorded) === canonical(now)) return [];
  const isObj = (x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (isObj(recorded) && isObj(now)) {
    const r = recorded as Record<string, unknown>;
    const n = now as Record<string, unknown>;
    // where the suite file lives is not part of the experiment
    const keys = [...new Set([...Object.keys(r), ...Object.keys(n)])].filter((k) => !(path === 'suite' && k === 'file')).sort();
    return keys.flatMap((k) => definitionDiff(r[k], n[k], `${path}.${k}`));
  }
  const show = (x: unknown) => (x === undefined ? '(absent)' : JSON.stringify(x));
  return [`${path}: ${show(recorded)} -> ${show(now)}`];
}

/** Every reason this manifest's run is not the run `now` would start; empty when it may resume. */
export function resumeMismatch(manifest: Manifest, now: RunIdentity): string[] {
  const out = definitionDiff(manifest.suite.definition, now.definition);
  for (const k of manifest.kernels) {
    const want = now.imageKeys[k.name];
    if (want === undefined) out.push(`kernel ${k.name}: in the recorded run, not in the suite now`);
    else if (k.imageKey !== undefined && k.imageKey !== want) out.push(`kernel ${k.name}: image ${k.imageKey} -> ${want}`);
  }
  for (const name of Object.keys(now.imageKeys)) {
    if (!manifest.kernels.some((k) => k.name === name)) out.push(`kernel ${name}: in the suite now, not in the recorded run`);
  }
  return out;
}
