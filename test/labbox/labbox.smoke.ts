// Smoke run of the simulated lab box (not a node:test file): build, boot, check
// what the harness will use in the base OS, kexec the image's kernel, hard-reset the
// "hung" kernel under test with the power command, then kexec a kernel under test
// that reboots itself (sysrq b) and wait for the base to come back.
//   flock /tmp/tb-guest.lock npx tsx test/labbox/labbox.smoke.ts [image-dir]
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { closeSync, openSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { shellQuote } from '../../harness/shell-quote.js';
import { buildLabBox, cacheRoot } from './build.js';
import { sshArgs, startLabBox, type LabBox } from './labbox.js';

/** The newest complete tracebench image (image.json is written last). */
function findImage(): string {
  const root = join(cacheRoot(), 'images');
  const dirs = readdirSync(root)
    .map((d) => join(root, d))
    .filter((d) => ['image.json', 'vmlinuz', 'initrd.img', 'root.ext4'].every((f) => existsSync(join(d, f))))
    .sort((a, b) => statSync(join(b, 'image.json')).mtimeMs - statSync(join(a, 'image.json')).mtimeMs);
  if (!dirs.length) throw new Error(`no complete image under ${root}: build one with tracebench first`);
  return dirs[0];
}

const now = () => performance.now() / 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timings: Record<string, number> = {};
const time = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
  const t = now();
  try {
    return await f();
  } finally {
    timings[name] = Number((now() - t).toFixed(1));
    console.log(`  ${name}: ${timings[name]} s`);
  }
};

function ssh(box: LabBox, command: string, opts: { inputFile?: string; input?: Buffer; timeoutS?: number } = {}) {
  const { timeoutS = 180, ...io } = opts;
  // buffer: tar archives come back through stdout
  return execa('ssh', [...sshArgs(box), command], { timeout: timeoutS * 1000, encoding: 'buffer', ...(io.inputFile || io.input ? io : { stdin: 'ignore' }) });
}
const text = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('utf8').trim();
const sshText = async (box: LabBox, command: string) => text((await ssh(box, command)).stdout);

/** Console text written after `offset` once `re` matches it, or throws with the tail after timeoutS. */
async function waitConsole(path: string, offset: number, re: RegExp, timeoutS: number): Promise<RegExpMatchArray> {
  const deadline = now() + timeoutS;
  let text = '';
  while (true) {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(Math.max(0, statSync(path).size - offset));
      readSync(fd, buf, 0, buf.length, offset);
      text = buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
    const m = text.match(re);
    if (m) return m;
    if (now() > deadline) throw new Error(`console never showed ${re} within ${timeoutS} s; it ends:\n${text.split('\n').slice(-15).join('\n')}`);
    await sleep(200);
  }
}

/** Polls ssh until the base answers with a boot_id other than `old`. */
async function waitNewBoot(box: LabBox, old: string, timeoutS: number): Promise<string> {
  const deadline = now() + timeoutS;
  while (now() < deadline) {
    const r = await execa('ssh', [...sshArgs(box), 'cat /proc/sys/kernel/random/boot_id'], { reject: false, timeout: 20_000, stdin: 'ignore' });
    const id = r.stdout.trim();
    if (r.exitCode === 0 && id && id !== old) return id;
    await sleep(1000);
  }
  throw new Error(`the base OS did not come back with a new boot_id within ${timeoutS} s`);
}

async function kexecLoad(box: LabBox, image: string, append: string, run: string): Promise<void> {
  const dir = '/var/lib/tracebench/smoke';
  await time(`${run}: copy kernel+initrd`, async () => {
    await ssh(box, `mkdir -p ${dir} && cat > ${dir}/vmlinuz`, { inputFile: join(image, 'vmlinuz') });
    await ssh(box, `cat > ${dir}/initrd.img`, { inputFile: join(image, 'initrd.img') });
  });
  await time(`${run}: kexec -l`, () => ssh(box, `kexec -l ${dir}/vmlinuz --initrd=${dir}/initrd.img --append=${shellQuote(append)}`));
}

/** Sends the detached kexec -e; returns the console offset from which the kernel under test writes. */
async function kexecExec(box: LabBox): Promise<number> {
  const offset = statSync(box.console).size;
  await ssh(box, `sync; setsid sh -c 'sleep 1; kexec -e' > /dev/null 2>&1 < /dev/null &`);
  return offset;
}

async function baseChecks(box: LabBox, image: string): Promise<void> {
  console.log('base OS checks:');
  const show = async (label: string, command: string) => {
    const r = await ssh(box, command).catch((e: { stdout?: Uint8Array; stderr?: Uint8Array; exitCode?: number }) => e);
    const out = `${text(r.stdout)} ${text(r.stderr)}`.trim().replace(/\n/g, ' | ');
    console.log(`  ${label}: rc=${r.exitCode} ${out.slice(0, 300)}`);
    return r.exitCode === 0;
  };
  await show('PATH', 'echo $PATH; id');
  await show('facts', 'uname -r; head -c 200 /proc/cmdline; grep -c ^processor /proc/cpuinfo; grep MemTotal /proc/meminfo; cat /sys/devices/system/cpu/online; df -h / | tail -1');
  await show('serials', `for d in ${box.disks.root} ${box.disks.share} ${box.disks.scratch}; do echo "$d=$(cat /sys/block/\${d#/dev/}/serial)"; done`);
  await show('findfs', 'findfs LABEL=tbshare; findfs LABEL=tbroot');
  await show('blkid -L', 'blkid -L tbshare; blkid -o value -s LABEL /dev/vda');
  const labelMount = await show('mount LABEL=', 'mkdir -p /mnt/share && mount LABEL=tbshare /mnt/share && grep /mnt/share /proc/mounts');
  if (!labelMount) await show('mount $(findfs)', 'mkdir -p /mnt/share && mount "$(findfs LABEL=tbshare)" /mnt/share && grep /mnt/share /proc/mounts');
  // tar both ways through ssh, as the harness stages jobs and fetches out/
  const host = mkdtempSync(join(tmpdir(), 'labbox-tar-'));
  try {
    mkdirSync(join(host, 'in/frag'), { recursive: true });
    writeFileSync(join(host, 'in/frag/hello'), `hello from ${image}\n`);
    const tarIn = (await execa('tar', ['-c', '-C', join(host, 'in'), '.'], { encoding: 'buffer' })).stdout;
    await ssh(box, 'rm -rf /mnt/share/job && mkdir -p /mnt/share/job && tar -x -C /mnt/share/job', { input: Buffer.from(tarIn) });
    const tarOut = (await ssh(box, 'tar -c -C /mnt/share/job .')).stdout;
    mkdirSync(join(host, 'out'));
    await execa('tar', ['-x', '-C', join(host, 'out')], { input: Buffer.from(tarOut) });
    const same = readFileSync(join(host, 'out/frag/hello'), 'utf8') === readFileSync(join(host, 'in/frag/hello'), 'utf8');
    console.log(`  tar in/out round trip: ${same ? 'ok' : 'MISMATCH'}`);
    if (!same) throw new Error('tar round trip through the share changed the file');
  } finally {
    rmSync(host, { recursive: true, force: true });
  }
  await show('sync+umount', 'sync && umount /mnt/share');
  await time('mke2fs scratch', () => ssh(box, `mke2fs -q -t ext4 -F -L tbscratch ${box.disks.scratch}`));
  await show('scratch label', 'findfs LABEL=tbscratch && mount LABEL=tbscratch /mnt/scratch && umount /mnt/scratch && echo mounted');
}

async function main(): Promise<void> {
  const image = process.argv[2] ?? findImage();
  console.log(`image: ${image}`);
  const imageFiles = { kernel: join(image, 'vmlinuz'), root: join(image, 'root.ext4') };
  const build = await time('build', () => buildLabBox(imageFiles));
  console.log(`  base initramfs ${build.initrd} (${(statSync(build.initrd).size / 1e6).toFixed(1)} MB), release ${build.release}`);
  const dir = mkdtempSync(join(tmpdir(), 'labbox-'));
  let ok = false;
  const box = await time('start -> ssh', () => startLabBox({ image: imageFiles, dir }));
  try {
    console.log(`  ssh -p ${box.port} root@127.0.0.1, console ${box.console}, disks ${JSON.stringify(box.disks)}`);
    console.log(`  ${(await waitConsole(box.console, 0, /^LABBOX-UP .*$/m, 10))[0]}`);
    const [boot0, release] = (await sshText(box, 'cat /proc/sys/kernel/random/boot_id; uname -r')).split('\n');
    console.log(`  boot_id ${boot0}, uname -r ${release}`);
    await baseChecks(box, image);

    console.log('kernel under test that hangs (init=/bin/sh), reset by the power command:');
    await kexecLoad(box, image, 'console=ttyS0 root=LABEL=tbroot ro init=/bin/sh panic=-1 tsc=reliable', 'hang');
    let offset = await kexecExec(box);
    let t = now();
    const banner = await waitConsole(box.console, offset, /Linux version (\S+)/, 120);
    timings['hang: kexec -e -> KUT banner'] = Number((now() - t).toFixed(1));
    console.log(`  kexec -e -> KUT banner (${banner[1]}): ${timings['hang: kexec -e -> KUT banner']} s`);
    await waitConsole(box.console, offset, /can't access tty|job control turned off|Run \/bin\/sh as init process/, 180);
    timings['hang: kexec -e -> KUT /bin/sh'] = Number((now() - t).toFixed(1));
    console.log(`  kexec -e -> KUT /bin/sh on tbroot: ${timings['hang: kexec -e -> KUT /bin/sh']} s`);
    const boot1 = await time('hang: power reset -> ssh (new boot_id)', async () => {
      const r = await execa(box.powerCommand[0], box.powerCommand.slice(1), { reject: false, all: true });
      if (r.exitCode !== 0) throw new Error(`power command failed (${r.exitCode}): ${r.all}`);
      return waitNewBoot(box, boot0, 180);
    });
    console.log(`  boot_id ${boot1}`);
    console.log(`  share kept across the reset: ${await sshText(box, 'mount LABEL=tbshare /mnt/share && cat /mnt/share/job/frag/hello; umount /mnt/share')}`);

    console.log('kernel under test that reboots itself (sysrq b):');
    await kexecLoad(box, image, 'console=ttyS0 root=LABEL=tbroot ro panic=-1 tsc=reliable init=/bin/sh -- -c "echo b > /proc/sysrq-trigger"', 'sysrq');
    offset = await kexecExec(box);
    t = now();
    await waitConsole(box.console, offset, /Linux version (\S+)/, 120);
    timings['sysrq: kexec -e -> KUT banner'] = Number((now() - t).toFixed(1));
    const boot2 = await waitNewBoot(box, boot1, 240);
    timings['sysrq: kexec -e -> base ssh (new boot_id)'] = Number((now() - t).toFixed(1));
    console.log(`  kexec -e -> KUT banner: ${timings['sysrq: kexec -e -> KUT banner']} s, -> back in the base over ssh: ${timings['sysrq: kexec -e -> base ssh (new boot_id)']} s (boot_id ${boot2})`);
    ok = true;
  } finally {
    await box.stop();
    if (ok) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir} (console.log, qemu.log)`);
  }
  console.log(`TIMINGS ${JSON.stringify(timings)}`);
}

try {
  await main();
} catch (e) {
  const err = e as Error & { command?: string; stderr?: Uint8Array };
  console.error(`SMOKE FAILED: ${err.command ? `${err.command}: ${text(err.stderr)}` : err.stack}`);
  process.exitCode = 1;
}
