// tracebench doctor [--install]
import type { CommandModule } from 'yargs';
import { execa } from 'execa';
import { ExitCode, TracebenchError } from '../errors.js';
import { hostChecks, missingPackages, type Check } from '../doctor.js';

function printChecks(checks: Check[]): void {
  for (const c of checks) process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(22)} ${c.detail}\n`);
}

/** Stop with the exact fix when a prerequisite is missing (used by bench and image build). */
export function requireChecks(checks: Check[]): void {
  const bad = checks.filter((c) => !c.ok);
  if (!bad.length) return;
  const pkgs = missingPackages(checks);
  throw new TracebenchError({
    message: `host prerequisites missing:\n${bad.map((c) => `  ${c.name}: ${c.detail}`).join('\n')}`,
    hint: pkgs.length
      ? `run \`tracebench doctor --install\` (apt-get install -y ${pkgs.join(' ')})${bad.some((c) => !c.package) ? '; also: ' + bad.filter((c) => !c.package).map((c) => c.fix).join('; ') : ''}`
      : bad.map((c) => c.fix).join('; '),
    exitCode: ExitCode.host,
  });
}

interface Args {
  install: boolean;
}

export const doctorCommand: CommandModule<object, Args> = {
  command: 'doctor',
  describe: 'check host prerequisites (qemu, mmdebstrap, e2fsprogs, root, KVM, disk); --install fixes what apt can',
  builder: (y) => y.option('install', { type: 'boolean', default: false, describe: 'apt-get install the missing Debian packages' }) as never,
  handler: async (a) => {
    let checks = hostChecks();
    const pkgs = missingPackages(checks);
    if (a.install && pkgs.length) {
      process.stdout.write(`installing: ${pkgs.join(' ')}\n`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      for (const args of [['update', '-q'], ['install', '-y', '-q', ...pkgs]]) {
        const r = await execa('apt-get', args, { env, reject: false, stdio: 'inherit' });
        if (r.exitCode !== 0) throw new TracebenchError({ message: `apt-get ${args.join(' ')} failed (exit ${r.exitCode})`, exitCode: ExitCode.host });
      }
      checks = hostChecks();
    }
    printChecks(checks);
    requireChecks(checks);
  },
};
