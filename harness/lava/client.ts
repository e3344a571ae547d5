// The LAVA 2023.01 REST API v0.2, as much of it as tracebench uses: who am I,
// submit, job state, log lines, cancel, a device's tags and worker. The token
// comes from TRACEBENCH_LAVA_TOKEN or the user's lavacli identity
// (~/.config/lavacli.yaml) for the same server.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ExitCode, TracebenchError } from '../errors.js';

export type JobState = 'Submitted' | 'Scheduling' | 'Scheduled' | 'Running' | 'Canceling' | 'Finished';
export type JobHealth = 'Unknown' | 'Complete' | 'Incomplete' | 'Canceled';

export interface LavaJob {
  id: number;
  state: JobState;
  health: JobHealth;
  actual_device: string | null;
  failure_comment?: string | null;
  start_time?: string | null;
  end_time?: string | null;
  submit_time?: string | null;
}

export interface LavaDevice {
  hostname: string;
  worker_host: string | null;
  tags: (string | number)[];
  health: string;
  state: string;
}

/** The token for `server` (http://host:port): the environment, else a lavacli identity whose URI names the same server. */
export function lavaToken(server: string, env = process.env, home = homedir()): { token: string; source: string } | undefined {
  if (env.TRACEBENCH_LAVA_TOKEN) return { token: env.TRACEBENCH_LAVA_TOKEN, source: 'TRACEBENCH_LAVA_TOKEN' };
  const file = join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'lavacli.yaml');
  if (!existsSync(file)) return undefined;
  const ids = (parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, { uri?: string; token?: string }>;
  const want = new URL(server);
  for (const [name, id] of Object.entries(ids)) {
    if (!id?.uri || !id.token) continue;
    let u: URL;
    try {
      u = new URL(id.uri);
    } catch {
      continue;
    }
    if (u.hostname === want.hostname && (u.port || defaultPort(u)) === (want.port || defaultPort(want))) return { token: id.token, source: `lavacli identity ${name} (${file})` };
  }
  return undefined;
}

const defaultPort = (u: URL) => (u.protocol === 'https:' ? '443' : '80');

export class LavaClient {
  constructor(
    /** http(s)://host:port, no trailing slash */
    readonly server: string,
    private readonly token: string | undefined,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  private hostError(what: string, why: string, hint?: string) {
    return new TracebenchError({ message: `LAVA server ${this.server}: ${what}: ${why}`, hint, exitCode: ExitCode.host });
  }

  private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
    let r: Response;
    try {
      r = await this.fetchFn(`${this.server}/api/v0.2/${path}`, {
        method,
        headers: { ...(this.token ? { Authorization: `Token ${this.token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}), Accept: 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(120_000),
      });
    } catch (e) {
      throw this.hostError(`${method} ${path}`, `not reachable (${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message})`, 'check the lava:// URI and that the server is up');
    }
    if (r.status === 401 || r.status === 403) {
      throw this.hostError(`${method} ${path}`, `refused the token (HTTP ${r.status}: ${(await r.text()).slice(0, 200).trim()})`, 'set TRACEBENCH_LAVA_TOKEN to a valid token of this server (lava-server manage tokens add, or the web UI), or add a lavacli identity for it');
    }
    return r;
  }

  private async json<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const r = await this.call(method, path, body);
    const text = await r.text();
    if (!r.ok) throw this.hostError(`${method} ${path}`, `HTTP ${r.status}: ${text.slice(0, 400).trim()}`);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw this.hostError(`${method} ${path}`, `answered with something that is not JSON: ${text.slice(0, 120)}`, 'is this a LAVA server (REST API v0.2, LAVA 2023.01 or later)?');
    }
  }

  /** The user the token belongs to; exit 3 when there is no token or the server refuses it. */
  async whoami(): Promise<string> {
    if (!this.token) throw this.hostError('authentication', 'no token', 'set TRACEBENCH_LAVA_TOKEN, or add a lavacli identity for this server (lavacli identities add --uri …/RPC2 --username … --token …)');
    const r = await this.json<{ user?: string }>('GET', 'system/whoami/');
    if (!r.user) throw this.hostError('authentication', 'the token was not accepted (the server answers as an anonymous user)', 'set TRACEBENCH_LAVA_TOKEN to a valid token of this server');
    return r.user;
  }

  async submit(definition: string): Promise<number> {
    const r = await this.call('POST', 'jobs/', { definition });
    const text = await r.text();
    if (r.status !== 201) throw this.hostError('submitting a job', `HTTP ${r.status}: ${text.slice(0, 600).trim()}`, 'the job definition is kept beside the boot (lava/job.yaml); `tracebench lava jobs` writes the same definitions for review');
    const ids = (JSON.parse(text) as { job_ids?: number[] }).job_ids;
    if (!ids?.length) throw this.hostError('submitting a job', `no job id in the answer: ${text.slice(0, 200)}`);
    return ids[0];
  }

  job(id: number): Promise<LavaJob> {
    return this.json<LavaJob>('GET', `jobs/${id}/`);
  }

  /** Log text from entry `start` (0-based) on; '' when there is none yet. */
  async logs(id: number, start = 0): Promise<string> {
    const r = await this.call('GET', `jobs/${id}/logs/${start > 0 ? `?start=${start}` : ''}`);
    if (r.status === 404) return '';
    if (!r.ok) throw this.hostError(`reading job ${id}'s log`, `HTTP ${r.status}`);
    return r.text();
  }

  async cancel(id: number): Promise<void> {
    await this.call('GET', `jobs/${id}/cancel/`);
  }

  async device(name: string): Promise<LavaDevice | undefined> {
    const r = await this.call('GET', `devices/${encodeURIComponent(name)}/`);
    if (r.status === 404) return undefined;
    if (!r.ok) throw this.hostError(`reading device ${name}`, `HTTP ${r.status}`);
    return (await r.json()) as LavaDevice;
  }

  /** The devices of a device type. */
  async devices(deviceType: string): Promise<LavaDevice[]> {
    const r = await this.json<{ results: LavaDevice[] }>('GET', `devices/?device_type=${encodeURIComponent(deviceType)}&limit=1000`);
    return r.results;
  }

  /** Tag names by id (the device API lists tag ids). */
  async tagNames(): Promise<Map<number, string>> {
    const r = await this.json<{ results: { id: number; name: string }[] }>('GET', 'tags/?limit=1000');
    return new Map(r.results.map((t) => [t.id, t.name]));
  }
}
