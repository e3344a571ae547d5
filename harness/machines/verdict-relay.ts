// The armed-set handshake for a lab box. On a local guest the host reads the
// armed set from the 9p share and answers in ctl/verdict while the guest waits.
// A kernel kexec'd on a lab box shares no directory with this host, so its
// job share carries a small relay: once the guest has printed the armed set,
// the relay brings up the box's NIC (with the base OS's address), POSTs the
// output here, polls for the verdict, writes it to ctl/verdict for job.sh and
// takes the link down again before any workload runs. Parsing stays on this
// host (the same armedVerdict as for QEMU); the guest never judges its own set.
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { shellQuote } from '../shell-quote.js';

/** One server per run; each boot registers its job directory under a fresh token. */
export class VerdictServer {
  private readonly boots = new Map<string, string>();
  private server?: Server;

  async listen(address: string): Promise<number> {
    this.server = createServer((req, res) => {
      const m = /^\/([0-9a-f]{32})\/(armed|verdict)$/.exec(req.url ?? '');
      const jobDir = m && this.boots.get(m[1]);
      if (!m || !jobDir) return void res.writeHead(404).end();
      if (m[2] === 'armed' && req.method === 'POST') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          // the same files the guest writes on a 9p share: run.ts's armedVerdict reads them
          mkdirSync(join(jobDir, 'out/boot'), { recursive: true });
          writeFileSync(join(jobDir, 'out/boot/tracer-armed.out'), Buffer.concat(chunks));
          writeFileSync(join(jobDir, 'out/boot/tracer-armed.status'), `${String(req.headers['x-tb-status'] ?? '').replace(/[^\w=. ]/g, '')}\n`);
          res.writeHead(200).end('ok\n');
        });
        return;
      }
      if (m[2] === 'verdict' && req.method === 'GET') {
        const f = join(jobDir, 'ctl/verdict');
        return void (existsSync(f) ? res.writeHead(200).end(readFileSync(f)) : res.writeHead(204).end());
      }
      res.writeHead(405).end();
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, address, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** A token for one boot: the URL path under which its guest talks to this host. */
  register(jobDir: string): string {
    const token = randomBytes(16).toString('hex');
    this.boots.set(token, jobDir);
    return token;
  }

  unregister(token: string): void {
    this.boots.delete(token);
  }

  async close(): Promise<void> {
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = undefined;
  }
}

/** The guest side: python3 is in the image; only the standard library is used. */
export const RELAY_PY = `# tracebench armed-set relay (harness/machines/verdict-relay.ts)
import os, sys, time, urllib.request
url, tb = sys.argv[1], '/tb'
status = tb + '/out/boot/tracer-armed.status'
deadline = time.time() + 1800
while not os.path.exists(status):
    if time.time() > deadline:
        sys.exit('no armed set within 30 min')
    time.sleep(0.2)
def call(method, path, data=None, headers={}):
    req = urllib.request.Request(url + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.read()
body = open(tb + '/out/boot/tracer-armed.out', 'rb').read()
line = open(status).read().strip()
for attempt in range(120):
    try:
        call('POST', 'armed', body, {'X-TB-Status': line})
        break
    except Exception as e:
        print('post:', e, flush=True)
        time.sleep(1)
while time.time() < deadline:
    try:
        code, verdict = call('GET', 'verdict')
        if code == 200 and verdict:
            with open(tb + '/ctl/verdict.part', 'wb') as f:
                f.write(verdict)
            os.rename(tb + '/ctl/verdict.part', tb + '/ctl/verdict')
            print('verdict:', verdict.decode().strip(), flush=True)
            break
    except Exception as e:
        print('get:', e, flush=True)
    time.sleep(0.3)
`;

/** The base OS's network facts the guest copies: interface MAC, address/prefix, the controller and a gateway. */
export interface GuestNet {
  mac: string;
  address: string;
  controller: string;
  gateway?: string;
}

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const CIDR = /^\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}$/;

/** From the base OS's `ip route get <controller>`, interface address and MAC (see SshKexecMachine.before). */
export function guestNet(facts: Record<string, string>): GuestNet | string {
  const controller = facts.controller;
  const route = facts.route ?? '';
  const gateway = / via (\S+)/.exec(route)?.[1];
  const mac = (facts.mac ?? '').toLowerCase();
  const address = /inet (\S+)/.exec(facts.addr ?? '')?.[1] ?? '';
  if (!IPV4.test(controller ?? '')) return `this host's address as the box sees it is not IPv4 (${JSON.stringify(controller)})`;
  if (!MAC.test(mac)) return `no MAC address for the route to ${controller} (${JSON.stringify(route)})`;
  if (!CIDR.test(address)) return `no IPv4 address on the interface towards ${controller}`;
  if (gateway !== undefined && !IPV4.test(gateway)) return `gateway ${JSON.stringify(gateway)} is not IPv4`;
  return { mac, address, controller, gateway };
}

/** machine.sh: tb-init runs it before job.sh (guest-init.sh). Brings the NIC up only for the handshake. */
export function relayScript(net: GuestNet, url: string): string {
  const q = shellQuote;
  return [
    '# generated by tracebench (harness/machines/verdict-relay.ts)',
    // no udev here: load the drivers of network devices by modalias (PCI class 02, virtio device 1)
    'for d in /sys/bus/pci/devices/*; do case "$(cat "$d/class")" in 0x02*) modprobe -q "$(cat "$d/modalias")" ;; esac; done',
    'for d in /sys/bus/virtio/devices/*; do [ "$(cat "$d/device" 2>/dev/null)" = 0x0001 ] && modprobe -q "$(cat "$d/modalias")"; done',
    `IF=; for i in 1 2 3 4 5 6 7 8 9 10; do for n in /sys/class/net/*; do [ "$(cat "$n/address")" = ${q(net.mac)} ] && IF=\${n##*/}; done; [ -n "$IF" ] && break; sleep 0.5; done`,
    `[ -n "$IF" ] || { echo "no interface with MAC ${net.mac}"; exit 1; }`,
    'ip link set dev "$IF" up',
    `ip addr add ${q(net.address)} dev "$IF"`,
    ...(net.gateway ? [`ip route add ${q(net.controller)} via ${q(net.gateway)} dev "$IF"`] : []),
    // the link goes down once the verdict is in: workloads run with the network as a local guest's (none)
    `( python3 /tb/relay.py ${q(url)}; ip addr flush dev "$IF"; ip link set dev "$IF" down ) > /tb/out/relay.log 2>&1 < /dev/null &`,
    '',
  ].join('\n');
}
