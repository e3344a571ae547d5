// `--machine <uri>`: which backend runs the kernels under test. Validated here,
// once, so a host or user name never reaches ssh or a shell unchecked.
import { ExitCode, TracebenchError } from '../errors.js';
import { parseLavaUri, type LavaTarget } from '../lava/uri.js';

export type MachineUri = { kind: 'qemu'; uri: 'qemu' } | { kind: 'ssh'; uri: string; user: string; host: string; port: number } | ({ kind: 'lava' } & LavaTarget);

const bad = (uri: string, why: string) =>
  new TracebenchError({ message: `--machine ${JSON.stringify(uri)}: ${why}`, hint: 'use qemu (a local guest, the default), ssh://user@host[:port] (a lab box, docs/lab.md) or lava://host[:port]?device_type=… (a LAVA fleet, docs/lava.md)', exitCode: ExitCode.usage });

// a DNS name, an IPv4 address or a bracketed IPv6 literal; a user name as useradd allows
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;
const USER = /^[a-z_][a-z0-9_.-]{0,31}$/;

export function parseMachineUri(uri: string): MachineUri {
  if (uri === 'qemu' || uri === 'qemu://' || uri === 'qemu:') return { kind: 'qemu', uri: 'qemu' };
  if (/^lava:/.test(uri)) return { kind: 'lava', ...parseLavaUri(uri) };
  const m = /^ssh:\/\/(?:([^@/]*)@)?([^/]+?)(?::(\d+))?\/?$/.exec(uri);
  if (!m) throw bad(uri, 'not a machine this version knows');
  const [, user = 'root', host, port = '22'] = m;
  if (!USER.test(user)) throw bad(uri, `user ${JSON.stringify(user)} is not a valid login name`);
  if (!HOST.test(host)) throw bad(uri, `host ${JSON.stringify(host)} is not a host name or an IP address`);
  const p = Number(port);
  if (!(p >= 1 && p <= 65535)) throw bad(uri, `port ${port} is out of range`);
  return { kind: 'ssh', uri: `ssh://${user}@${host}:${p}`, user, host: host.replace(/^\[|\]$/g, ''), port: p };
}
