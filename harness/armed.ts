// The armed-set check: what the tracer reports armed must be exactly the pinned
// set in its own names, or the comparison is not of the same work.
import type { ResolvedEvent } from './types.js';

export interface ArmedCheck {
  ok: boolean;
  expected: string[];
  armed: string[];
  missing: string[];
  extra: string[];
}

export function expectedNative(events: ResolvedEvent[]): string[] {
  return [...new Set(events.flatMap((e) => e.native))].sort();
}

export function compareArmed(expected: string[], armed: string[]): ArmedCheck {
  const a = new Set(armed);
  const e = new Set(expected);
  const missing = [...e].filter((x) => !a.has(x)).sort();
  const extra = [...a].filter((x) => !e.has(x)).sort();
  return { ok: missing.length === 0 && extra.length === 0, expected: [...e].sort(), armed: [...a].sort(), missing, extra };
}

export function describeArmed(c: ArmedCheck): string {
  if (c.ok) return `armed set verified: ${c.expected.length} events`;
  const parts = [];
  if (c.missing.length) parts.push(`missing ${c.missing.join(', ')}`);
  if (c.extra.length) parts.push(`extra ${c.extra.join(', ')}`);
  return `armed set differs from the pinned set: ${parts.join('; ')}`;
}
