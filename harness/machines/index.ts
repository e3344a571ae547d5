// A Machine from `--machine` and the suite: the one place that picks a backend
// other than the local QEMU guest (which bench builds itself: it needs the KVM probe).
import type { Suite } from '../config.js';
import { LavaMachine } from './lava.js';
import { SshKexecMachine } from './ssh-kexec.js';
import { parseMachineUri } from './uri.js';

/** The lab box or LAVA server a URI names, with the suite's lab settings; undefined for qemu. */
export function labMachine(uri: string, suite: Suite): SshKexecMachine | LavaMachine | undefined {
  const u = parseMachineUri(uri);
  if (u.kind === 'lava') return new LavaMachine({ target: u });
  if (u.kind !== 'ssh') return undefined;
  const lab = suite.machine.lab;
  return new SshKexecMachine({ uri: u.uri, target: { user: u.user, host: u.host, port: u.port, identity: lab.identity, hostKeyCheck: lab.hostKeyCheck }, lab, tune: suite.machine.tune });
}
