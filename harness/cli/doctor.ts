// tracebench doctor [--install] [--browser]
import type { CommandModule } from 'yargs';
import { BENCH_PACKAGES, BROWSER_PACKAGES, ensurePackages, hostChecks, needPresent, requireChecks, type Check } from '../doctor.js';

// image.ts imports it from here
export { requireChecks };

function printChecks(checks: Check[]): void {
  for (const c of checks) process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(22)} ${c.detail}\n`);
}

interface Args {
  install: boolean;
  browser: boolean;
}

export const doctorCommand: CommandModule<object, Args> = {
  command: 'doctor',
  describe: 'check host prerequisites (qemu, mmdebstrap, e2fsprogs, root, KVM, disk); --install fixes what apt can',
  builder: (y) =>
    y
      .option('install', { type: 'boolean', default: false, describe: 'apt-get install the missing Debian packages (root)' })
      .option('browser', { type: 'boolean', default: false, describe: "also the browser tests' packages (chromium, fonts-dejavu-core)" }) as never,
  handler: async (a) => {
    // the same step bench and `npm test` run, so all three say the same thing
    if (a.install) await ensurePackages([...BENCH_PACKAGES, ...(a.browser ? BROWSER_PACKAGES : [])], { install: true, purpose: 'tracebench' });
    const checks = hostChecks();
    if (a.browser) {
      for (const n of BROWSER_PACKAGES) {
        const ok = needPresent(n);
        checks.push({ name: n.package, ok, detail: `${ok ? n.file : `${n.file} missing`} (${n.why})`, package: n.package, fix: `apt-get install -y ${n.package}` });
      }
    }
    printChecks(checks);
    requireChecks(checks);
  },
};
