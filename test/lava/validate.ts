// LAVA 2023.01's own strict job schema, for the tests: validates job YAML files with
// lava_common.schemas.validate(data, strict=True) (test/lava/validate-jobs.py).
// Needs Debian's lava-common (LAVA_TEST_PACKAGES in harness/doctor.ts).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LavaValidation {
  file: string;
  ok: boolean;
  /** voluptuous' message and the path of the offending key, e.g. "extra keys not allowed @ actions[0].deploy.images.kernel.foo" */
  error?: string;
}

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'validate-jobs.py');

/** One result per file, in order. Throws only when the validator itself cannot run (lava-common missing). */
export function validateLavaJobs(files: string[]): LavaValidation[] {
  if (files.length === 0) return [];
  let out: string;
  try {
    out = execFileSync('/usr/bin/python3', [SCRIPT, ...files], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string; message: string };
    // exit 1: some file is invalid, the report is on stdout
    if (err.status !== 1 || !err.stdout) throw new Error(`validate-jobs.py failed (exit ${err.status}): ${err.stderr || err.message}`);
    out = err.stdout;
  }
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LavaValidation);
}
