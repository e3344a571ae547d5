// The lab backend's pure parts: machine URIs, ssh argv, the kexec command line,
// what `check` refuses, and the guest's armed-set relay.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { labSchema } from '../harness/config.js';
import { TracebenchError } from '../harness/errors.js';
import { kexecCommand, keyValues, labCmdline, labProblems } from '../harness/machines/ssh-kexec.js';
import { remoteCommand, sshArgv } from '../harness/machines/ssh.js';
import { parseMachineUri } from '../harness/machines/uri.js';
import { guestNet, relayScript, VerdictServer } from '../harness/machines/verdict-relay.js';

const lab = labSchema.parse({});

describe('machine URIs', () => {
  test('qemu and ssh forms; user and port default', () => {
    assert.deepEqual(parseMachineUri('qemu'), { kind: 'qemu', uri: 'qemu' });
    assert.deepEqual(parseMachineUri('ssh://root@127.0.0.1:2222'), { kind: 'ssh', uri: 'ssh://root@127.0.0.1:2222', user: 'root', host: '127.0.0.1', port: 2222 });
    assert.deepEqual(parseMachineUri('ssh://lab-07.example'), { kind: 'ssh', uri: 'ssh://root@lab-07.example:22', user: 'root', host: 'lab-07.example', port: 22 });
    assert.equal((parseMachineUri('ssh://bench@[fe80::1]:22') as { host: string }).host, 'fe80::1');
  });
  test('a host, user or port that could smuggle options or commands is refused, naming the field', () => {
    for (const [uri, field] of [
      ['ssh://root@-oProxyCommand=sh', 'host'],
      ['ssh://root@box;reboot', 'host'],
      ['ssh://$(id)@box', 'user'],
      ['ssh://root@box:0', 'port'],
      ['ssh://root@box:99999', 'port'],
    ] as const) {
      assert.throws(() => parseMachineUri(uri), (e: unknown) => e instanceof TracebenchError && e.exitCode === 2 && e.message.includes(field), uri);
    }
    assert.throws(() => parseMachineUri('http://box'), /not a machine this version knows/);
  });
});

describe('ssh argv', () => {
  const t = { user: 'bench', host: 'lab-07', port: 2222, identity: '/home/a b/.ssh/id key', hostKeyCheck: 'accept-new' as const };
  test('batch mode, timeouts, the identity as one argv word, the target after --', () => {
    const argv = sshArgv(t, 'true');
    assert.deepEqual(argv.slice(0, 2), ['-p', '2222']);
    assert.equal(argv[argv.indexOf('-i') + 1], '/home/a b/.ssh/id key');
    assert.ok(argv.includes('BatchMode=yes') && argv.includes('ConnectTimeout=5') && argv.includes('StrictHostKeyChecking=accept-new'));
    assert.deepEqual(argv.slice(-3), ['--', 'bench@lab-07', 'true']);
  });
  test('a test box with a new host key every run skips the known-hosts file', () => {
    const argv = sshArgv({ ...t, identity: undefined, hostKeyCheck: 'off' }, 'true', { connectTimeoutS: 3 });
    assert.ok(argv.includes('UserKnownHostsFile=/dev/null') && argv.includes('ConnectTimeout=3') && !argv.includes('-i'));
  });
  test('remote words are quoted for the remote shell: it reads back exactly the argv', () => {
    const words = ['printf', '%s|', "it's", '$(reboot)', 'a b', '`id`'];
    const out = execFileSync('sh', ['-c', remoteCommand(words)], { encoding: 'utf8' });
    assert.equal(out, "it's|$(reboot)|a b|`id`|");
  });
});

describe('kexec', () => {
  test('the kernel under test gets the lab partitions, reboots at the end and on panic', () => {
    const cmd = labCmdline(lab, ['trace_buf_size=8M']);
    assert.deepEqual(cmd, ['console=ttyS0,115200', 'root=LABEL=tbroot', 'ro', 'init=/sbin/tb-init', 'tb.share=LABEL=tbshare', 'tb.scratch=LABEL=tbscratch', 'tb.end=reboot', 'panic=-1', 'oops=panic', 'quiet', 'trace_buf_size=8M']);
    assert.ok(!cmd.some((w) => /isolcpus|nohz_full/.test(w)), 'never isolates CPUs of the kernel under test');
    assert.throws(() => labCmdline(lab, ['a b']), TracebenchError);
  });
  test('kexec -l with the whole command line as one --append word, then a detached jump', () => {
    const c = kexecCommand('/run/k/vmlinuz', '/run/k/initrd.img', ['console=ttyS0', 'root=LABEL=tbroot']);
    assert.match(c, /^kexec -l \/run\/k\/vmlinuz --initrd=\/run\/k\/initrd\.img '--append=console=ttyS0 root=LABEL=tbroot' && \{ setsid sh -c '.*kexec -e.*' > \/dev\/null 2>&1 < \/dev\/null & \}$/);
    // the shell splits it back into exactly these kexec arguments
    const argv = execFileSync('sh', ['-c', c.split(' && ')[0].replace(/^kexec/, 'printf "%s\\n"')], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(argv, ['-l', '/run/k/vmlinuz', '--initrd=/run/k/initrd.img', '--append=console=ttyS0 root=LABEL=tbroot']);
  });
  test('partition names are validated at load time', () => {
    assert.throws(() => labSchema.parse({ root: 'LABEL=x;reboot' }), /a device path/);
    assert.equal(labSchema.parse({ scratch: '/dev/nvme0n1p3' }).scratch, '/dev/nvme0n1p3');
    assert.throws(() => labSchema.parse({ power: [] }));
  });
});

describe('lab box check', () => {
  const ok = { uid: '0', kexec: '/usr/sbin/kexec', kexec_load_disabled: '0', lockdown: '[none] integrity confidentiality', root: '/dev/sda2', share: '/dev/sda3', scratch: '/dev/sdb1' };
  test('a box that meets the contract has no problems', () => assert.deepEqual(labProblems(ok, lab), []));
  test('each unmet requirement is named', () => {
    const p = labProblems({ ...ok, uid: '1000', kexec: '', kexec_load_disabled: '1', lockdown: 'none [integrity] confidentiality', share: '' }, lab);
    assert.equal(p.length, 5);
    assert.match(p.join('\n'), /uid 1000, not root/);
    assert.match(p.join('\n'), /kexec-tools/);
    assert.match(p.join('\n'), /kexec_load_disabled=1/);
    assert.match(p.join('\n'), /lockdown is integrity \(Secure Boot\)/);
    assert.match(p.join('\n'), /no share partition LABEL=tbshare/);
  });
  test('key=value output ignores noise lines', () => assert.deepEqual(keyValues('boot_id=ab-cd\nnoise line\n== facts\nmac=52:54:00:12:34:56\n'), { boot_id: 'ab-cd', mac: '52:54:00:12:34:56' }));
});

describe('armed-set relay', () => {
  const facts = { controller: '10.0.2.2', route: '10.0.2.2 dev eth0 src 10.0.2.15 uid 0', mac: '52:54:00:12:34:56', addr: '2: eth0    inet 10.0.2.15/24 brd 10.0.2.255 scope global eth0' };
  test('the guest copies the base OS address towards this host; anything unexpected is refused', () => {
    assert.deepEqual(guestNet(facts), { mac: '52:54:00:12:34:56', address: '10.0.2.15/24', controller: '10.0.2.2', gateway: undefined });
    assert.equal((guestNet({ ...facts, route: '192.0.2.1 via 10.0.2.1 dev eth0 src 10.0.2.15' }) as { gateway: string }).gateway, '10.0.2.1');
    assert.match(guestNet({ ...facts, mac: 'x;reboot' }) as string, /no MAC/);
    assert.match(guestNet({ ...facts, controller: '::1' }) as string, /not IPv4/);
  });
  test('machine.sh brings the link up for the handshake only and is valid sh', () => {
    const sh = relayScript(guestNet(facts) as never, 'http://10.0.2.2:4000/0123/');
    assert.match(sh, /ip addr add 10\.0\.2\.15\/24 dev "\$IF"/);
    assert.match(sh, /python3 \/tb\/relay\.py http:\/\/10\.0\.2\.2:4000\/0123\/; ip addr flush dev "\$IF"; ip link set dev "\$IF" down/);
    execFileSync('sh', ['-n', '-c', sh]);
  });
  test('the server stores the posted armed set where run.ts reads it and answers the verdict once written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracebench-relay-'));
    const server = new VerdictServer();
    const port = await server.listen('127.0.0.1');
    const token = server.register(dir);
    const call = (method: string, path: string, body?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const r = request({ host: '127.0.0.1', port, method, path, headers: { 'X-TB-Status': 'rc=0 start=1.0 end=2.0' } }, (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
        });
        r.on('error', reject);
        r.end(body);
      });
    try {
      assert.equal((await call('GET', `/${token}/verdict`)).status, 204);
      assert.equal((await call('POST', `/${token}/armed`, 'sched:sched_switch\n')).status, 200);
      assert.equal(readFileSync(join(dir, 'out/boot/tracer-armed.out'), 'utf8'), 'sched:sched_switch\n');
      assert.equal(readFileSync(join(dir, 'out/boot/tracer-armed.status'), 'utf8'), 'rc=0 start=1.0 end=2.0\n');
      const { writeFileSync, mkdirSync } = await import('node:fs');
      mkdirSync(join(dir, 'ctl'));
      writeFileSync(join(dir, 'ctl/verdict'), 'go\n');
      assert.deepEqual(await call('GET', `/${token}/verdict`), { status: 200, body: 'go\n' });
      assert.equal((await call('GET', `/${'0'.repeat(32)}/verdict`)).status, 404, 'an unknown token');
    } finally {
      await server.close();
    }
  });
});
