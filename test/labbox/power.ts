// The lab box's "power command": one QEMU human-monitor command over its unix
// socket, system_reset by default (the BMC power cycle of a real lab box).
//   npx tsx test/labbox/power.ts <monitor-socket> [command...]
// Exit 0: the monitor took the command (its output, if any, on stdout).
// Exit 1: no monitor, no answer in time, or the monitor refused the command. Exit 2: usage.
import { createConnection } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROMPT = '(qemu) ';
// HMP answers errors as text on the same channel; these are its refusal forms
const REFUSED = /unknown command|^Error:|^Parameter '|^Invalid parameter|^Try "help/m;

/** Sends one HMP command and resolves with its output; rejects on a refusal, a closed socket or a timeout. */
export function monitorCommand(socket: string, command: string, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const conn = createConnection({ path: socket });
    let buf = '';
    let sent = false;
    let done = false;
    const finish = (err: Error | null, out = '') => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      conn.destroy();
      if (err) reject(err);
      else resolvePromise(out);
    };
    // one client at a time: a second caller waits in the listen backlog until this times out
    const timer = setTimeout(() => finish(new Error(`QEMU monitor ${socket} did not answer ${JSON.stringify(command)} within ${timeoutMs / 1000} s`)), timeoutMs);
    conn.on('error', (e) => finish(new Error(`QEMU monitor ${socket}: ${e.message}`)));
    conn.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      if (!sent) {
        if (!buf.includes(PROMPT)) return;
        buf = '';
        sent = true;
        conn.write(`${command}\n`);
        return;
      }
      if (!buf.includes(PROMPT)) return;
      const out = clean(buf.slice(0, buf.lastIndexOf(PROMPT)), command);
      if (REFUSED.test(out)) finish(new Error(`QEMU monitor refused ${JSON.stringify(command)}: ${out}`));
      else finish(null, out);
    });
    // `quit` closes the monitor instead of prompting again: that is its success
    conn.on('close', () => {
      if (sent && /^(quit|q)\b/.test(command.trim())) finish(null, '');
      else finish(new Error(`QEMU monitor ${socket} closed before answering ${JSON.stringify(command)}`));
    });
  });
}

/** Output without the readline echo of the command and its terminal escapes. */
function clean(text: string, command: string): string {
  const lines = text
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\[[0-9;]*[A-Za-z]|\x1b[A-Za-z]/g, '')
    .replace(/\r/g, '')
    .split('\n');
  if (lines[0]?.trim().endsWith(command.trim())) lines.shift();
  return lines.join('\n').trim();
}

async function main(argv: string[]): Promise<number> {
  const [socket, ...words] = argv;
  if (!socket) {
    process.stderr.write('usage: power.ts <qemu-monitor-socket> [monitor command, default system_reset]\n');
    return 2;
  }
  const command = words.length ? words.join(' ') : 'system_reset';
  try {
    const out = await monitorCommand(socket, command);
    if (out) process.stdout.write(out + '\n');
    return 0;
  } catch (e) {
    process.stderr.write(`power: ${(e as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
