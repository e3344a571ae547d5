// tracebench doctor [--install] [--browser] [--suite quick|standard|FILE]
import type { CommandModule } from 'yargs';
import { loadSuite } from '../config.js';
import { BENCH_PACKAGES, BROWSER_PACKAGES, ensurePackages, hostChecks, kvmUsable, methodologyChecks, needPresent, requireChecks, type Check } from '../doctor.js';
import { localHostFacts } from '../machines/host-facts.js';

// image.ts imports it from here
export { requireChecks };

function printChecks(checks: Check[]): void {
  for (const c of checks) {
    process.stdout.write(`${c.ok ? (c.warning ? 'warn' : 'ok  ') : 'FAIL'}  ${c.name.padEnd(22)} ${c.detail}\n`);
    if (c.ok && c.warning) process.stdout.write(`      ${''.padEnd(22)} ${c.warning}\n`);
  }
}

interface Args {
  install: boolean;
  browser: boolean;
  suite: string;
}

export const doctorCommand: CommandModule<object, Args> = {
  command: 'doctor',
  describe: 'check host prerequisites (qemu, mmdebstrap, e2fsprogs, root, KVM, disk) and benchmark methodology (governor, turbo, SMT, irqbalance, vCPU pinning); --install fixes what apt can',
  builder: (y) =>
    y
      .option('install', { type: 'boolean', default: false, describe: 'apt-get install the missing Debian packages (root)' })
      .option('browser', { type: 'boolean', default: false, describe: "also the browser tests' packages (chromium, fonts-dejavu-core)" })
      .option('suite', { type: 'string', default: 'quick', describe: 'the suite whose vCPU count the pinning check uses (quick, standard or a YAML file)' }) as never,
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
    checks.push(...methodologyChecks(await localHostFacts(), { kvm: kvmUsable(), vcpus: loadSuite(a.suite).machine.cpus }));
    printChecks(checks);
    requireChecks(checks);
  },
};
