// Hostile tracer-native names and filters (issue 11, "Injection"). Two
// independent guards are tested for every tracer configuration (ftrace,
// ftrace-streaming, lttng, lttng-streaming, ktrace, perf, perf-streaming, ebpf):
//  (a) the config rules refuse, at load, any native name or filter outside the
//      driver's declared grammar: `bench --dry-run` exits 2 naming the file, the
//      field and the event, and nothing starts;
//  (b) whatever a driver is handed, the fragments it generates keep every value
//      literal: they are run in sh (tracefs/debugfs paths redirected to a temp
//      directory, `lttng` a stub that records its argv) with a sentinel
//      `$(touch …)` in the value, and the sentinel must not appear.
// Nothing here writes under /sys or loads a module: only lines that carry
// config values are run, with their tracer paths rewritten first.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { execa } from 'execa';
import { loadSuite } from '../harness/config.js';
import { ExitCode, TracebenchError } from '../harness/errors.js';
import { customizeHook, customizeScript } from '../harness/image/build.js';
import { guestContext } from '../harness/job.js';
import { shellQuote } from '../harness/shell-quote.js';
import { ftrace, ftraceOptions, T } from '../harness/tracers/ftrace.js';
import { ktrace, ktraceOptions } from '../harness/tracers/ktrace.js';
import { tracers } from '../harness/tracers/index.js';
import { lttng, lttngOptions } from '../harness/tracers/lttng/index.js';
import type { ResolvedEvent, TracerDriver } from '../harness/types.js';

const ROOT = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'tb-injection-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** The file a successful injection would create; nothing else in this test creates it. */
const SENT = join(work, 'pwned');
const pwned = () => existsSync(SENT);

/** Suffixes appended to a valid name or filter: each one is a way out of an unquoted shell word. */
const HOSTILE = {
  semicolon: `; touch ${SENT}`,
  dollar_paren: `$(touch ${SENT})`,
  backtick: `\`touch ${SENT}\``,
  single_quote: `'; touch ${SENT}; '`,
  double_quote: `"; touch ${SENT}; "`,
  space: ` x`,
  newline: `\ntouch ${SENT}`,
} as const;
type Kind = keyof typeof HOSTILE;
const KINDS = Object.keys(HOSTILE) as Kind[];

const ctx = guestContext(2);
const FTRACE_RULE = 'subsystem:event, each of letters, digits and _';
const LTTNG_RULE = 'a tracepoint name or pattern, or syscall_entry_<name> / syscall_exit_<name>, of letters, digits, _ and *';
const KTRACE_RULE = 'a tracepoint name of lower-case letters, digits and _, as listed in ktrace/ABI.md';
const FTRACE_GRAMMAR = 'fields, numbers, "strings", the operators == != <= >= && || < > & ~ !, parentheses and spaces';
const LTTNG_GRAMMAR = 'fields, numbers, "strings", the operators == != <= >= << >> && || < > & | ^ ~ !, parentheses and spaces';
const IN_STRING = '(letters, digits, spaces and . * ? [ ] : / + , = @ % ^ # ~ - _ only)';

interface TracerCase {
  config: string;
  tracer: 'ftrace' | 'lttng' | 'ktrace' | 'perf' | 'ebpf';
  name: string;
  rule: string;
  /** a valid filter the hostile suffixes are appended to; null: the tracer takes no filters */
  filter: string | null;
  grammar: string;
}
const CASES: TracerCase[] = [
  { config: 'ftrace', tracer: 'ftrace', name: 'sched:sched_switch', rule: FTRACE_RULE, filter: 'prev_pid > 0', grammar: FTRACE_GRAMMAR },
  { config: 'ftrace-streaming', tracer: 'ftrace', name: 'sched:sched_switch', rule: FTRACE_RULE, filter: 'prev_pid > 0', grammar: FTRACE_GRAMMAR },
  { config: 'lttng', tracer: 'lttng', name: 'sched_switch', rule: LTTNG_RULE, filter: '$ctx.procname == "dbench"', grammar: LTTNG_GRAMMAR },
  { config: 'lttng-streaming', tracer: 'lttng', name: 'sched_switch', rule: LTTNG_RULE, filter: '$ctx.procname == "dbench"', grammar: LTTNG_GRAMMAR },
  { config: 'ktrace', tracer: 'ktrace', name: 'sched_switch', rule: KTRACE_RULE, filter: null, grammar: '' },
  { config: 'perf', tracer: 'perf', name: 'sched:sched_switch', rule: FTRACE_RULE, filter: 'prev_pid > 0', grammar: FTRACE_GRAMMAR },
  { config: 'perf-streaming', tracer: 'perf', name: 'sched:sched_switch', rule: FTRACE_RULE, filter: 'prev_pid > 0', grammar: FTRACE_GRAMMAR },
  { config: 'ebpf', tracer: 'ebpf', name: 'sched:sched_switch', rule: FTRACE_RULE, filter: null, grammar: '' },
];

/** The exact problem line for a hostile name. */
const nameProblem = (c: TracerCase, k: Kind) =>
  `events.${k}.${c.tracer}.0: event "${k}": ${JSON.stringify(c.name + HOSTILE[k])} is not a valid ${c.tracer} event name (${c.rule})`;

/**
 * The exact problem line for a hostile filter; undefined where the suffix is
 * inside the grammar (a space: filters are made of space-separated tokens,
 * which is why (b) quotes them anyway).
 */
function filterProblem(c: TracerCase, k: Kind): string | undefined {
  const field = `filters.${k}.${c.tracer}: event "${k}": `;
  if (c.filter === null) return `${field}${c.tracer} takes no filter (it records every hit of an armed event); remove it`;
  const f = c.filter + HOSTILE[k];
  const col = c.filter.length + 1;
  const head = `${field}${c.tracer} filter ${JSON.stringify(f)}: `;
  switch (k) {
    case 'semicolon':
    case 'single_quote':
      return `${head}${JSON.stringify(HOSTILE[k][0])} at column ${col} is outside the filter grammar: ${c.grammar}`;
    case 'dollar_paren':
    case 'backtick':
      return `${head}${JSON.stringify(HOSTILE[k][0])} at column ${col} is outside the filter grammar: ${c.grammar}`;
    case 'double_quote':
      // `"` opens a string whose first character is `;`
      return `${head}";" at column ${col + 1} is not allowed in a filter string ${IN_STRING}`;
    case 'newline':
      return `${head}"\\n" at column ${col} is outside the filter grammar: ${c.grammar}`;
    case 'space':
      return undefined;
  }
}

/** Write an instrumentation set (JSON is YAML) and a suite referring to it by path; returns the suite file. */
function writeSuite(dir: string, c: TracerCase, events: Record<string, string[]>, filters: Record<string, string>): { suite: string; instr: string } {
  mkdirSync(dir, { recursive: true });
  const instr = join(dir, 'hostile-instrumentation.yaml');
  writeFileSync(
    instr,
    JSON.stringify({
      name: 'hostile',
      events: Object.fromEntries(Object.entries(events).map(([logical, names]) => [logical, { [c.tracer]: names }])),
      ...(Object.keys(filters).length ? { filters: Object.fromEntries(Object.entries(filters).map(([logical, f]) => [logical, { [c.tracer]: f }])) } : {}),
    }),
  );
  const suite = join(dir, 'suite.yaml');
  writeFileSync(
    suite,
    [`name: hostile-${c.config}`, `configs: [vanilla, ${c.config}]`, 'instrumentation: ./hostile-instrumentation.yaml', 'workloads:', '  - name: dbench', '    params: {clients: 1, seconds: 1}', ''].join('\n'),
  );
  return { suite, instr };
}

const HINT = 'hint: fix the fields named above; `tracebench bench --dry-run` checks a suite without booting';

describe('(a) hostile native names and filters are refused at load', () => {
  for (const c of CASES) {
    describe(`${c.config}`, () => {
      for (const k of KINDS) {
        it(`event name with ${k}`, () => {
          const { suite, instr } = writeSuite(join(work, `a-${c.config}-name-${k}`), c, { [k]: [c.name + HOSTILE[k]] }, {});
          assert.throws(
            () => loadSuite(suite),
            (e: unknown) => e instanceof TracebenchError && e.exitCode === ExitCode.usage && e.message === `${instr}: invalid configuration:\n  ${nameProblem(c, k)}`,
          );
        });
        const expected = filterProblem(c, k);
        const base = c.filter ?? 'cpu == 0';
        it(`filter with ${k}: ${expected ? 'refused' : 'inside the grammar, so only quoting protects it'}`, () => {
          const { suite, instr } = writeSuite(join(work, `a-${c.config}-filter-${k}`), c, { [k]: [c.name] }, { [k]: base + HOSTILE[k] });
          if (!expected) return void assert.equal(loadSuite(suite).instrumentation.filters?.[k]?.[c.tracer], base + HOSTILE[k]);
          assert.throws(
            () => loadSuite(suite),
            (e: unknown) => e instanceof TracebenchError && e.exitCode === ExitCode.usage && e.message === `${instr}: invalid configuration:\n  ${expected}`,
          );
        });
      }
      it('bench --dry-run (the real CLI) exits 2 naming the file, every field and event, and starts nothing', async () => {
        const events = Object.fromEntries(KINDS.map((k) => [k, [c.name + HOSTILE[k]]]));
        const filters = Object.fromEntries(KINDS.map((k) => [k, (c.filter ?? 'cpu == 0') + HOSTILE[k]]));
        const { suite, instr } = writeSuite(join(work, `cli-${c.config}`), c, events, filters);
        const r = await execa('npx', ['tsx', 'bin/tracebench.ts', 'bench', '--dry-run', '--suite', suite], { reject: false, cwd: ROOT });
        const problems = [...KINDS.map((k) => nameProblem(c, k)), ...KINDS.map((k) => filterProblem(c, k)).filter((p) => p !== undefined)];
        assert.equal(r.exitCode, 2, r.stderr);
        assert.equal(r.stderr, [`error: ${instr}: invalid configuration:`, ...problems.map((p) => `  ${p}`), HINT].join('\n'));
        assert.equal(r.stdout, '', 'no plan printed: nothing was started');
        assert.equal(pwned(), false);
      });
    });
  }
  it('an instrumentation entry for an unknown tracer is refused', () => {
    const dir = join(work, 'a-unknown');
    mkdirSync(dir);
    const instr = join(dir, 'i.yaml');
    writeFileSync(instr, JSON.stringify({ name: 'x', events: { sched_switch: { ftrace: ['sched:sched_switch'], 'perf;reboot': ['x'] } } }));
    writeFileSync(join(dir, 's.yaml'), 'name: s\nconfigs: [vanilla, ftrace]\ninstrumentation: ./i.yaml\nworkloads: [{name: dbench}]\n');
    assert.throws(() => loadSuite(join(dir, 's.yaml')), { message: `${instr}: invalid configuration:\n  events.sched_switch.perf;reboot: event "sched_switch": no tracer "perf;reboot" (have: ${Object.keys(tracers).join(', ')})` });
  });
  it('the shipped instrumentation set passes', () => {
    assert.equal(loadSuite('quick').instrumentation.name, 'default');
  });
});

/** A scratch place to run fragment lines: tracer paths redirected, an `lttng` stub, glob bait in the cwd. */
function sandbox(label: string) {
  const dir = join(work, `sb-${label}`);
  const s = { dir, T: join(dir, 'tracing'), K: join(dir, 'ktrace'), bin: join(dir, 'bin'), cwd: join(dir, 'cwd'), log: join(dir, 'lttng.argv') };
  for (const d of [s.T, s.K, join(s.K, 'events'), s.bin, s.cwd]) mkdirSync(d, { recursive: true });
  // files an unquoted `sched_*` or `read*` would expand to
  for (const bait of ['sched_bait', 'read_bait']) writeFileSync(join(s.cwd, bait), '');
  // each invocation: its arguments NUL-terminated, then an empty argument as the end marker
  writeFileSync(join(s.bin, 'lttng'), `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done >> "$TB_LTTNG_LOG"\nprintf '\\0' >> "$TB_LTTNG_LOG"\n`);
  chmodSync(join(s.bin, 'lttng'), 0o755);
  return s;
}
type Sandbox = ReturnType<typeof sandbox>;

/** Run fragment lines in sh (no -e: every line runs) with the tracer paths rewritten into the sandbox. */
function runLines(sb: Sandbox, lines: string[]): void {
  const script = lines.map((l) => l.split(T).join(sb.T).split('/sys/kernel/debug/ktrace').join(sb.K)).join('\n') + '\n';
  writeFileSync(join(sb.dir, 'run.sh'), script);
  spawnSync('sh', [join(sb.dir, 'run.sh')], { cwd: sb.cwd, env: { ...process.env, PATH: `${sb.bin}:${process.env.PATH}`, TB_LTTNG_LOG: sb.log }, stdio: 'ignore' });
}

/** The argv of every recorded `lttng` invocation. */
function lttngCalls(sb: Sandbox): string[][] {
  if (!existsSync(sb.log)) return [];
  const calls: string[][] = [[]];
  const parts = readFileSync(sb.log, 'utf8').split('\0').slice(0, -1);
  for (const p of parts) (p === '' ? calls.push([]) : calls[calls.length - 1].push(p));
  return calls.slice(0, -1);
}

const assertSh = (fragment: string[], what: string) => {
  const r = spawnSync('sh', ['-n'], { input: fragment.join('\n') + '\n' });
  assert.equal(r.status, 0, `${what}: sh -n: ${r.stderr}`);
};

/** Every fragment a driver generates parses as sh. */
function allFragments(d: TracerDriver, events: ResolvedEvent[], o: unknown): Record<string, string[]> {
  return {
    version: d.versionCommands(o),
    setup: d.setup(events, o, ctx),
    armed: d.armedCommands(o),
    start: d.start(o, ctx),
    stop: d.stop(o, ctx),
    collect: d.collect(o, ctx),
    teardown: d.teardown?.(o, ctx) ?? [],
  };
}

const BASE = ['enable-event', '-k', '--session', 'tb', '-c', 'tbchan'];

describe('(b) generated fragments keep hostile values literal', () => {
  it('the sandbox would see an injection: the unquoted filter path of before runs the sentinel', () => {
    const sb = sandbox('control');
    runLines(sb, [`echo 1 > ${T}/events/sched/x$(touch ${SENT})/filter`]);
    assert.equal(pwned(), true, 'the control must trip the sentinel, or the other checks prove nothing');
    rmSync(SENT);
  });

  for (const mode of ['flight-recorder', 'streaming'] as const) {
    const o = ftraceOptions.parse({ mode });
    const label = mode === 'streaming' ? 'ftrace-streaming' : 'ftrace';
    for (const k of KINDS) {
      it(`${label}: name and filter with ${k}`, () => {
        const sb = sandbox(`${label}-${k}`);
        const name = `sched:sched_switch${HOSTILE[k]}`;
        const filter = `prev_pid > 0${HOSTILE[k]}`;
        const events = [{ logical: 'e', native: [name], filter }];
        for (const [f, lines] of Object.entries(allFragments(ftrace, events, o))) assertSh(lines, `${label} ${f}`);
        mkdirSync(join(sb.T, 'events', name.replace(':', '/')), { recursive: true });
        runLines(sb, ftrace.setup(events, o, ctx).filter((l) => l.includes('/set_event') || l.includes('/filter')));
        assert.equal(pwned(), false);
        assert.equal(readFileSync(join(sb.T, 'set_event'), 'utf8'), `\n${name}\n`);
        assert.equal(readFileSync(join(sb.T, 'events', name.replace(':', '/'), 'filter'), 'utf8'), `${filter}\n`);
      });
    }
    it(`${label}: a filter inside the grammar that a shell would redirect, background and glob`, () => {
      const sb = sandbox(`${label}-allowed`);
      const filter = 'prev_pid > 0 && next_pid < 5 || prev_comm ~ "sched_*"';
      assert.equal(ftrace.nativeFilter!.safeParse(filter).success, true, 'hostile to a shell, yet a valid filter');
      const events = [{ logical: 'sched_switch', native: ['sched:sched_switch'], filter }];
      mkdirSync(join(sb.T, 'events/sched/sched_switch'), { recursive: true });
      runLines(sb, ftrace.setup(events, o, ctx).filter((l) => l.includes('/set_event') || l.includes('/filter')));
      assert.equal(readFileSync(join(sb.T, 'events/sched/sched_switch/filter'), 'utf8'), `${filter}\n`);
      assert.deepEqual(readdirSync(sb.cwd).sort(), ['read_bait', 'sched_bait'], 'no file made by a redirection');
    });
  }

  for (const mode of ['flight-recorder', 'streaming'] as const) {
    const o = lttngOptions.parse({ mode });
    const label = mode === 'streaming' ? 'lttng-streaming' : 'lttng';
    for (const k of KINDS) {
      it(`${label}: event list and filter with ${k}`, () => {
        const sb = sandbox(`${label}-${k}`);
        const filter = `$ctx.procname == "x"${HOSTILE[k]}`;
        const events = [
          { logical: 'plain', native: [`sched_switch${HOSTILE[k]}`] },
          { logical: 'filtered', native: [`sched_waking${HOSTILE[k]}`], filter },
        ];
        for (const [f, lines] of Object.entries(allFragments(lttng, events, o))) assertSh(lines, `${label} ${f}`);
        runLines(sb, lttng.setup(events, o, ctx).filter((l) => l.startsWith('lttng enable-event')));
        assert.equal(pwned(), false);
        assert.deepEqual(lttngCalls(sb), [
          [...BASE, `sched_switch${HOSTILE[k]}`],
          [...BASE, '--filter', filter, `sched_waking${HOSTILE[k]}`],
        ]);
      });
    }
    it(`${label}: patterns and a $ctx filter inside the grammar that a shell would glob and expand`, () => {
      const sb = sandbox(`${label}-allowed`);
      const filter = '$ctx.procname == "dbench" && (prev_tid > 0 || next_tid < 5)';
      assert.equal(lttng.nativeFilter!.safeParse(filter).success, true);
      assert.equal(lttng.nativeName.safeParse('sched_*').success, true);
      const events = [
        { logical: 'sched', native: ['sched_*'], filter },
        { logical: 'reads', native: ['syscall_entry_read*', 'syscall_exit_read*'] },
      ];
      runLines(sb, lttng.setup(events, o, ctx).filter((l) => l.startsWith('lttng enable-event')));
      assert.deepEqual(lttngCalls(sb), [
        [...BASE, '--filter', filter, 'sched_*'],
        [...BASE, '--syscall', 'read*'],
      ]);
      assert.deepEqual(readdirSync(sb.cwd).sort(), ['read_bait', 'sched_bait']);
    });
  }

  describe('ktrace', () => {
    const o = ktraceOptions.parse({});
    for (const k of KINDS) {
      it(`setup refuses a name with ${k} before writing any fragment`, () => {
        assert.throws(() => ktrace.setup([{ logical: 'e', native: [`sched_switch${HOSTILE[k]}`] }], o, ctx), (e: unknown) => e instanceof TracebenchError && e.exitCode === ExitCode.usage);
      });
    }
    it('setup refuses any filter', () => {
      assert.throws(() => ktrace.setup([{ logical: 'e', native: ['sched_switch'], filter: `cpu == 0${HOSTILE.dollar_paren}` }], o, ctx), (e: unknown) => e instanceof TracebenchError && e.exitCode === ExitCode.usage);
    });
    it('a valid name is armed through a quoted debugfs path', () => {
      const sb = sandbox('ktrace');
      const events = [{ logical: 'sched_switch', native: ['sched_switch'] }];
      for (const [f, lines] of Object.entries(allFragments(ktrace, events, o))) assertSh(lines, `ktrace ${f}`);
      runLines(sb, ktrace.setup(events, o, ctx).filter((l) => l.startsWith('echo 1 > /sys/kernel/debug/ktrace/events/')));
      assert.equal(readFileSync(join(sb.K, 'events/sched_switch'), 'utf8'), '1\n');
    });
  });
});

describe('shellQuote, the one quoting helper', () => {
  const values = [...Object.values(HOSTILE), '', "'", "''", 'a\\b', '!x', '*', '~', '-n', 'é ✓', '\t\n', `"$HOME"`, '$((1+1))', `a'b"c$d\`e\\f`];
  it('sh reads every value back exactly, and nothing runs', () => {
    for (const v of values) {
      assert.equal(execFileSync('sh', ['-c', `printf '%s' ${shellQuote(v)}`], { encoding: 'utf8' }), v, JSON.stringify(v));
    }
    assert.equal(pwned(), false);
  });
  it('leaves plain words readable and refuses NUL', () => {
    assert.equal(shellQuote('sched:sched_switch'), 'sched:sched_switch');
    assert.equal(shellQuote('/usr/share/dbench/client.txt'), '/usr/share/dbench/client.txt');
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.throws(() => shellQuote('a\0b'), (e: unknown) => e instanceof TracebenchError && e.exitCode === ExitCode.usage && /NUL byte/.test(e.message));
  });
});

describe('host-side shell strings of the image build', () => {
  const odd = join(work, `cache $(touch ${SENT}) 'q' \`x\``);
  it('the mmdebstrap customize hook runs a hook whose path holds shell syntax, with the root as $1', () => {
    mkdirSync(odd, { recursive: true });
    const hook = join(odd, 'customize.sh');
    const out = join(work, 'hook-ran');
    writeFileSync(hook, `printf '%s' "$1" > ${shellQuote(out)}\n`);
    const opt = customizeHook(hook);
    assert.ok(opt.startsWith('--customize-hook='));
    // mmdebstrap runs a hook as: sh -c "$hook" exec "$rootdir"
    execFileSync('sh', ['-c', opt.slice('--customize-hook='.length), 'exec', '/the root'], { stdio: 'ignore' });
    assert.equal(readFileSync(out, 'utf8'), '/the root');
    assert.equal(pwned(), false);
  });
  it('customize script: a step input at such a host path is copied as is', () => {
    mkdirSync(odd, { recursive: true });
    const input = join(odd, 'src $(id) "x".tar');
    writeFileSync(input, 'payload');
    const recipe = {
      suite: 'trixie',
      variant: 'apt',
      packages: [],
      steps: [{ name: 'ktrace', dir: 'ktrace', script: 'build-in-image.sh', inputs: [{ path: input, as: 'ktrace' }], env: { KTRACE_SRC: '/usr/src/tracebench/inputs/ktrace' } }],
      mountPoints: ['/tb'],
      sizeGiB: 1,
      kernelRelease: '6.12.0-custom',
    };
    const script = customizeScript(recipe).split('\n');
    assertSh(script, 'customize script');
    const root = join(work, 'image-root');
    mkdirSync(root);
    const copy = script.filter((l) => l.startsWith('if [ -d '));
    assert.equal(copy.length, 1);
    execFileSync('sh', ['-eu', '-c', `R=${shellQuote(root)}\n${copy[0]}`], { stdio: 'ignore' });
    assert.equal(readFileSync(join(root, 'usr/src/tracebench/inputs/ktrace'), 'utf8'), 'payload');
    assert.equal(pwned(), false);
  });
});
