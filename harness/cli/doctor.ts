// tracebench doctor [--install] [--browser] [--suite quick|standard|FILE] [--machine ssh://...]
import type { CommandModule } from 'yargs';
import { loadSuite } from '../config.js';
import { BENCH_PACKAGES, BROWSER_PACKAGES, ensurePackages, hostChecks, kvmUsable, methodologyChecks, needPresent, requireChecks, type Check } from '../doctor.js';
import { localHostFacts } from '../machines/host-facts.js';
import { labMachine } from '../machines/index.js';
import { LavaMachine } from '../machines/lava.js';

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
  machine?: string;
}

export const doctorCommand: CommandModule<object, Args> = {
  command: 'doctor',
  describe: 'check host prerequisites (qemu, mmdebstrap, e2fsprogs, root, KVM, disk) and benchmark methodology (governor, turbo, SMT, irqbalance, vCPU pinning); --install fixes what apt can',
  builder: (y) =>
    y
      .option('install', { type: 'boolean', default: false, describe: 'apt-get install the missing Debian packages (root)' })
      .option('browser', { type: 'boolean', default: false, describe: "also the browser tests' packages (chromium, fonts-dejavu-core)" })
      .option('suite', { type: 'string', default: 'quick', describe: 'the suite whose vCPU count the pinning check uses (quick, standard or a YAML file)' })
      .option('machine', { type: 'string', describe: 'check a lab box instead: ssh://user@host[:port] (reachable, root, kexec-tools, partitions, Secure Boot lockdown, governor, turbo, SMT), or a LAVA server: lava://host[:port]?device_type=… (token, devices, pinning tags)' }) as never,
  handler: async (a) => {
    const suite = loadSuite(a.suite);
    const lab = a.machine ? labMachine(a.machine, suite) : undefined;
    if (lab instanceof LavaMachine) {
      const checks: Check[] = await lab.inspect();
      printChecks(checks);
      requireChecks(checks);
      return;
    }
    if (lab) {
      // the lab box contract (docs/lab.md), then the box's own methodology facts
      const { found, problems } = await lab.inspect();
      const facts = await lab.facts();
      const checks: Check[] = [
        { name: 'ssh', ok: true, detail: `${lab.uri} reachable, base OS kernel ${facts.kernel}` },
        ...(['root', 'share', 'scratch'] as const).map((p) => ({ name: `${p} partition`, ok: Boolean(found[p]), detail: `${suite.machine.lab[p]} -> ${found[p] || 'not found'}` })),
        ...problems.filter((p) => !/partition/.test(p)).map((p) => ({ name: 'lab box', ok: false, detail: p })),
        ...methodologyChecks(facts, { kvm: false, vcpus: suite.machine.cpus }),
      ];
      printChecks(checks);
      requireChecks(checks);
      return;
    }
    // the same step bench and `npm test` run, so all three say the same thing
    if (a.install) await ensurePackages([...BENCH_PACKAGES, ...(a.browser ? BROWSER_PACKAGES : [])], { install: true, purpose: 'tracebench' });
    const checks = hostChecks();
    if (a.browser) {
      for (const n of BROWSER_PACKAGES) {
        const ok = needPresent(n);
        checks.push({ name: n.package, ok, detail: `${ok ? n.file : `${n.file} missing`} (${n.why})`, package: n.package, fix: `apt-get install -y ${n.package}` });
      }
    }
    checks.push(...methodologyChecks(await localHostFacts(), { kvm: kvmUsable(), vcpus: suite.machine.cpus }));
    printChecks(checks);
    requireChecks(checks);
  },
};
