// ssh to a lab box: the argv (pure, unit-tested) and a runner. The remote side
// always gets one command string for its login shell; every value in it is a
// shellQuote'd word, and host, user and port were validated in uri.ts.
import { createReadStream } from 'node:fs';
import { execa } from 'execa';
import { ExitCode, TracebenchError } from '../errors.js';
import { shellQuote } from '../shell-quote.js';

export interface SshTarget {
  user: string;
  host: string;
  port: number;
  identity?: string;
  hostKeyCheck: 'strict' | 'accept-new' | 'off';
}

/** What a lab box is called in messages. */
export const sshName = (t: SshTarget) => `${t.user}@${t.host}:${t.port}`;

/** ssh argv for one remote command (a POSIX sh string whose values are already quoted). */
export function sshArgv(t: SshTarget, remote: string, o: { connectTimeoutS?: number } = {}): string[] {
  const keyOpts =
    t.hostKeyCheck === 'off'
      ? ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR']
      : ['-o', `StrictHostKeyChecking=${t.hostKeyCheck === 'strict' ? 'yes' : 'accept-new'}`];
  return [
    '-p', String(t.port),
    ...(t.identity ? ['-i', t.identity, '-o', 'IdentitiesOnly=yes'] : []),
    // never a password prompt: a lab run is unattended
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${o.connectTimeoutS ?? 5}`,
    // a box that dies mid-command (it kexecs, it hangs) must not hang the harness
    '-o', 'ServerAliveInterval=5',
    '-o', 'ServerAliveCountMax=3',
    ...keyOpts,
    '--',
    // an IPv6 literal is given to ssh bare (ssh's own -p carries the port)
    `${t.user}@${t.host}`,
    remote,
  ];
}

/** A remote command line from argv words: each quoted for the remote shell. */
export const remoteCommand = (argv: string[]) => argv.map(shellQuote).join(' ');

export interface SshResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** ssh exits 255 for its own failures (refused, timed out, auth): the box, not the command. */
export const SSH_FAILED = 255;
/** ssh's own words when no session was established (nothing ran on the box) */
const CONNECT_FAILURE = /Connection (timed out|refused|reset|closed by remote host during banner)|kex_exchange_identification|banner exchange|No route to host/i;

export async function ssh(t: SshTarget, remote: string, o: { input?: string; inputFile?: string; timeoutS?: number; connectTimeoutS?: number } = {}): Promise<SshResult> {
  const r = await execa('ssh', sshArgv(t, remote, o), {
    reject: false,
    ...(o.inputFile ? { inputFile: o.inputFile } : o.input !== undefined ? { input: o.input } : { stdin: 'ignore' }),
    timeout: (o.timeoutS ?? 120) * 1000,
    encoding: 'utf8',
  });
  return { exitCode: r.exitCode ?? SSH_FAILED, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** Runs a remote command that must succeed; a failure is a host problem (exit 3) naming the box and the step. */
export async function sshOk(t: SshTarget, remote: string, step: string, o: Parameters<typeof ssh>[2] = {}): Promise<string> {
  let r = await ssh(t, remote, o);
  // a box that has just come back (or a loaded one) may drop the first connections: a few tries before
  // calling it unreachable; only for failures of the connection itself, which ran nothing remotely
  for (let i = 0; i < 3 && r.exitCode === SSH_FAILED && CONNECT_FAILURE.test(r.stderr); i++) {
    await new Promise((res) => setTimeout(res, 5000));
    r = await ssh(t, remote, o);
  }
  if (r.exitCode !== 0) {
    const why = r.stderr.trim().split('\n').slice(-3).join(' | ') || `exit ${r.exitCode}`;
    throw new TracebenchError({
      message: `lab box ${sshName(t)}: ${step} failed: ${why}`,
      hint: r.exitCode === SSH_FAILED ? `check that \`ssh -p ${t.port} ${t.user}@${t.host}\` works without a password (docs/lab.md)` : 'see docs/lab.md for what a lab box must offer',
      exitCode: ExitCode.host,
    });
  }
  return r.stdout;
}

/** Streams a local file into a remote command's stdin (an image, a kernel). */
export async function sshPipeFile(t: SshTarget, file: string, remote: string, step: string, timeoutS = 3600): Promise<void> {
  const child = execa('ssh', sshArgv(t, remote), { reject: false, stdin: 'pipe', timeout: timeoutS * 1000, encoding: 'utf8' });
  createReadStream(file).pipe(child.stdin!);
  const r = await child;
  if (r.exitCode !== 0) throw new TracebenchError({ message: `lab box ${sshName(t)}: ${step} failed: ${String(r.stderr).trim() || `exit ${r.exitCode}`}`, exitCode: ExitCode.host });
}

/** Runs a remote command whose stdout is a tar stream and unpacks it into a local directory. */
export async function sshUntar(t: SshTarget, remote: string, localDir: string, step: string): Promise<void> {
  const tar = execa('tar', ['-x', '-C', localDir], { reject: false, stdin: 'pipe' });
  const child = execa('ssh', sshArgv(t, remote), { reject: false, stdout: 'pipe', encoding: 'utf8', timeout: 600_000 });
  child.stdout!.pipe(tar.stdin!);
  const [r, x] = await Promise.all([child, tar]);
  if (r.exitCode !== 0 || x.exitCode !== 0) {
    throw new TracebenchError({ message: `lab box ${sshName(t)}: ${step} failed: ${String(r.stderr).trim() || String(x.stderr).trim() || `exit ${r.exitCode}/${x.exitCode}`}`, exitCode: ExitCode.host });
  }
}

/** Packs local paths (relative to dir) and unpacks them through a remote command reading a tar stream. */
export async function sshTarIn(t: SshTarget, dir: string, paths: string[], remote: string, step: string): Promise<void> {
  const tar = execa('tar', ['-c', '-C', dir, '--', ...paths], { reject: false, stdout: 'pipe' });
  const child = execa('ssh', sshArgv(t, remote), { reject: false, stdin: 'pipe', encoding: 'utf8', timeout: 600_000 });
  tar.stdout!.pipe(child.stdin!);
  const [x, r] = await Promise.all([tar, child]);
  if (r.exitCode !== 0 || x.exitCode !== 0) {
    throw new TracebenchError({ message: `lab box ${sshName(t)}: ${step} failed: ${String(r.stderr).trim() || String(x.stderr).trim() || `exit ${x.exitCode}/${r.exitCode}`}`, exitCode: ExitCode.host });
  }
}
