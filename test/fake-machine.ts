// The parts of a Machine a test double does not care about; each test's fake
// plays the guest in boot() by writing what the job would into req.jobDir.
import { parseHostFacts } from '../harness/machines/host-facts.js';
import type { BootRequest, BootResult, Machine, MachineFacts } from '../harness/machines/machine.js';

export abstract class FakeMachineBase implements Machine {
  readonly uri: string = 'fake';
  /** true: onMark hands the fake's HostSampler to the interference watch, as QEMU's does */
  readonly measuresInterference: boolean = true;
  readonly method = 'a test double that plays the guest';
  async check(): Promise<void> {}
  async prepare(): Promise<void> {}
  async close(): Promise<void> {}
  async facts(): Promise<MachineFacts> {
    return { ...parseHostFacts('model=test cpu\n'), machine: this.uri };
  }
  abstract boot(req: BootRequest): Promise<BootResult>;
}

/** A fake from one boot function. */
export function fakeMachine(boot: (req: BootRequest) => Promise<BootResult>): Machine {
  return new (class extends FakeMachineBase {
    boot = boot;
  })();
}
