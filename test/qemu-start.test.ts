// QEMU that never starts the guest is a host error (exit 3), not a failed boot
// (exit 4). The messages are QEMU's own (captured from Debian's qemu-system-x86
// 7.2 on this host); the machine tests run real processes that fail before any guest runs.
import { strict as assert } from 'node:assert';
import { chmodSync, mkdtempSync, rmSync, writeFileSync , mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { probeKvm } from '../harness/machines/host.js';
import { QemuMachine, type BootRequest } from '../harness/machines/qemu.js';
import { baseCmdline } from '../harness/machines/qemu-args.js';
import { QemuStartError, startFailure, type StartOutcome } from '../harness/machines/qemu-start.js';

const base: StartOutcome = { binary: 'qemu-system-x86_64', exitCode: 1, timedOut: false, guestStarted: false, stderr: '' };
const WARN = "qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]\n";

describe('startFailure', () => {
  it('tells the reasons apart from what QEMU says', () => {
    const cases: [string, string][] = [
      ['binary-missing', ''],
      ['cannot-open', `${WARN}qemu: could not open kernel file '/nonexist': No such file or directory\n`],
      ['cannot-open', "qemu-system-x86_64: -drive file=/x.img,format=raw,if=virtio: Could not open '/x.img': No such file or directory\n"],
      ['bad-argv', 'qemu-system-x86_64: -bogus: invalid option\n'],
      ['kvm', 'Could not access KVM kernel module: Permission denied\nqemu-system-x86_64: failed to initialize kvm: Permission denied\n'],
      ['other', 'qemu-system-x86_64: something new\n'],
    ];
    for (const [reason, stderr] of cases) {
      const e = startFailure(reason === 'binary-missing' ? { ...base, spawnCode: 'ENOENT', exitCode: undefined } : { ...base, stderr });
      assert.ok(e instanceof QemuStartError, reason);
      assert.equal(e.reason, reason, stderr);
      assert.equal(e.exitCode, 3);
    }
  });

  it('names QEMU\'s error, without the warnings of a working run', () => {
    const e = startFailure({ ...base, stderr: `${WARN}qemu: could not open kernel file '/nonexist': No such file or directory\n` })!;
    assert.equal(e.message, "QEMU failed to start (exit 1) before the guest ran: qemu: could not open kernel file '/nonexist': No such file or directory");
    assert.equal(startFailure({ ...base, spawnCode: 'ENOENT', exitCode: undefined, binary: '/opt/q' })!.message, 'QEMU did not start: /opt/q not found');
  });

  it('once the guest ran, or on a timeout, a signal or exit 0, it is not a start failure', () => {
    const stderr = 'qemu-system-x86_64: -bogus: invalid option\n';
    assert.equal(startFailure({ ...base, stderr, guestStarted: true }), undefined);
    assert.equal(startFailure({ ...base, stderr, timedOut: true }), undefined);
    assert.equal(startFailure({ ...base, stderr, exitCode: undefined }), undefined); // SIGKILL mid-boot: the boot failed
    assert.equal(startFailure({ ...base, stderr, exitCode: 0 }), undefined);
  });
});

describe('QemuMachine start failures (real processes, no guest runs)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tracebench-qemu-start-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const req = (name: string): BootRequest => {
    mkdirSync(join(tmp, name), { recursive: true });
    return { name, image: { kernel: join(tmp, 'no-vmlinuz'), initrd: join(tmp, 'no-initrd'), root: join(tmp, 'no-root.ext4') }, extraCmdline: [], cpus: 1, memoryMiB: 256, scratchGiB: 0, jobDir: join(tmp, name), timeoutS: 30 };
  };
  const qemu = (binary?: string) => new QemuMachine({ accel: 'tcg', binary, scratchDir: tmp });
  const script = (name: string, body: string) => {
    const p = join(tmp, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };
  const rejectsWith = async (p: Promise<unknown>, reason: string, message: RegExp) => {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof QemuStartError, String(e));
      assert.equal(e.reason, reason);
      assert.equal(e.exitCode, 3);
      assert.match(e.message, message);
      return true;
    });
  };

  it('a missing binary', async () => {
    await rejectsWith(qemu(join(tmp, 'no-such-qemu')).boot(req('a')), 'binary-missing', /^QEMU did not start: .*no-such-qemu not found$/);
  });

  it('an image QEMU cannot open (the real qemu-system-x86_64)', async () => {
    await rejectsWith(qemu().boot(req('b')), 'cannot-open', /^QEMU failed to start \(exit 1\) before the guest ran: qemu-system-x86_64: -drive file=.*no-root\.ext4.*: Could not open '.*no-root\.ext4': No such file or directory$/);
  });

  it('an argv QEMU rejects (the real QEMU, one bogus option added)', async () => {
    const q = script('qemu-bogus', 'exec qemu-system-x86_64 -bogus-option "$@"');
    await rejectsWith(qemu(q).boot(req('c')), 'bad-argv', /-bogus-option: invalid option$/);
  });

  it('KVM that cannot be opened', async () => {
    const q = script('qemu-nokvm', "echo 'Could not access KVM kernel module: Permission denied' >&2\necho 'qemu-system-x86_64: failed to initialize kvm: Permission denied' >&2\nexit 1");
    await rejectsWith(qemu(q).boot(req('d')), 'kvm', /failed to initialize kvm/);
  });

  it('a guest that printed and then QEMU exited 1 is a failed boot, not a host error', async () => {
    const q = script('qemu-guest-died', "echo 'Linux version 6.12.0 (guest console)'\necho 'qemu-system-x86_64: virtio: zero sized buffers are not allowed' >&2\nexit 1");
    const r = await qemu(q).boot(req('e'));
    assert.equal(r.status, 'job-failed');
    assert.equal(r.exitCode, 1);
  });

  it('the KVM probe: an unopenable image stays a host error, a KVM refusal falls back to TCG', async () => {
    const image = { kernel: join(tmp, 'no-vmlinuz'), initrd: join(tmp, 'no-initrd'), root: join(tmp, 'no-root.ext4') };
    const probe = () => probeKvm(image, tmp);
    try {
      // probeKvm answers TCG without starting QEMU when /dev/kvm is unusable
      const { accessSync, constants } = await import('node:fs');
      accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    } catch {
      assert.deepEqual(await probe(), { accel: 'tcg', reason: '/dev/kvm is missing or not accessible' });
      return;
    }
    await rejectsWith(probe(), 'cannot-open', /Could not open '.*no-root\.ext4'/);
  });
});
