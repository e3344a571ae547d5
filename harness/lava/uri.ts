// `--machine lava://<server>[:port]?device_type=…&tags=…`: a LAVA instance that
// schedules the boots onto its devices. Validated once, here: every value ends
// up in a job definition or a URL.
import { hostname } from 'node:os';
import { ExitCode, TracebenchError } from '../errors.js';
import { LAVA_DEVICE_TYPES, type LavaDeviceType } from './job-definition.js';

export interface LavaTarget {
  /** the canonical URI, as recorded in the manifest */
  uri: string;
  /** http(s)://host:port of the server's REST API and web UI */
  server: string;
  deviceType: LavaDeviceType;
  /** the device type's name on the server, when it differs from the kind (device_type_name=) */
  deviceTypeName: string;
  /** device tags every job asks for (a pool) */
  tags: string[];
  /** a device to run on from the first boot (device=): it must carry a tag of its own name */
  device?: string;
  /** qemu: the workers cannot use KVM (kvm=0): TCG, results labelled emulated */
  noKvm: boolean;
  /** where this host serves the artifacts (host:port; port 0: any) and the host name devices reach it by */
  artifactsListen: string;
  artifactsHost?: string;
  /** pin=none: let LAVA spread boots over devices (the statistics then block on the device) */
  pin: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;
const KEYS = ['device_type', 'device_type_name', 'tags', 'device', 'kvm', 'artifacts', 'artifacts_host', 'https', 'pin'];

const bad = (uri: string, why: string) =>
  new TracebenchError({ message: `--machine ${JSON.stringify(uri)}: ${why}`, hint: 'lava://host[:port]?device_type=qemu|x86-kexec&tags=a,b&device=NAME&kvm=0&artifacts=ADDR:PORT (docs/lava.md)', exitCode: ExitCode.usage });

export function parseLavaUri(uri: string): LavaTarget {
  const m = /^lava:\/\/([^/?#]+?)(?::(\d+))?\/?(?:\?(.*))?$/.exec(uri);
  if (!m) throw bad(uri, 'not lava://host[:port][?options]');
  const [, host, portText, query = ''] = m;
  if (!HOST.test(host)) throw bad(uri, `host ${JSON.stringify(host)} is not a host name or an IP address`);
  const q = new URLSearchParams(query);
  for (const k of q.keys()) if (!KEYS.includes(k)) throw bad(uri, `unknown option ${JSON.stringify(k)} (known: ${KEYS.join(', ')})`);
  const https = q.get('https') === '1';
  const port = Number(portText ?? (https ? 443 : 80));
  if (!(port >= 1 && port <= 65535)) throw bad(uri, `port ${portText} is out of range`);
  const deviceType = (q.get('device_type') ?? 'qemu') as LavaDeviceType;
  if (!LAVA_DEVICE_TYPES.includes(deviceType)) throw bad(uri, `device_type ${JSON.stringify(deviceType)}: tracebench makes jobs for ${LAVA_DEVICE_TYPES.join(' and ')}`);
  const names = (k: string) => (q.get(k) ?? '').split(',').filter(Boolean);
  const tags = names('tags');
  for (const t of tags) if (!NAME.test(t)) throw bad(uri, `tag ${JSON.stringify(t)} is not a LAVA tag name`);
  const device = q.get('device') ?? undefined;
  if (device !== undefined && !NAME.test(device)) throw bad(uri, `device ${JSON.stringify(device)} is not a LAVA device name`);
  const deviceTypeName = q.get('device_type_name') ?? deviceType;
  if (!NAME.test(deviceTypeName)) throw bad(uri, `device_type_name ${JSON.stringify(deviceTypeName)} is not a LAVA name`);
  const kvm = q.get('kvm');
  if (kvm !== null && kvm !== '0' && kvm !== '1') throw bad(uri, 'kvm is 0 or 1');
  const pin = q.get('pin') ?? 'device';
  if (pin !== 'device' && pin !== 'none') throw bad(uri, 'pin is device (default) or none');
  const local = /^(127\.|localhost$|\[::1\]$)/.test(host);
  const artifactsListen = q.get('artifacts') ?? (local ? '127.0.0.1:0' : '0.0.0.0:0');
  if (!/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/.test(artifactsListen)) throw bad(uri, `artifacts ${JSON.stringify(artifactsListen)} is not host:port`);
  const artifactsHost = q.get('artifacts_host') ?? (artifactsListen.startsWith('0.0.0.0:') ? hostname() : undefined);
  if (artifactsHost !== undefined && !HOST.test(artifactsHost)) throw bad(uri, `artifacts_host ${JSON.stringify(artifactsHost)} is not a host name`);
  const server = `${https ? 'https' : 'http'}://${host}:${port}`;
  const canonical = new URLSearchParams({ device_type: deviceType, ...(deviceTypeName !== deviceType ? { device_type_name: deviceTypeName } : {}), ...(tags.length ? { tags: tags.join(',') } : {}), ...(device ? { device } : {}), ...(kvm === '0' ? { kvm: '0' } : {}), ...(pin === 'none' ? { pin } : {}), ...(https ? { https: '1' } : {}) });
  return { uri: `lava://${host}:${port}?${canonical.toString()}`, server, deviceType, deviceTypeName, tags, device, noKvm: kvm === '0', artifactsListen, artifactsHost, pin: pin === 'device' };
}
