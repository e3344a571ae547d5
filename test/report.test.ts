// Every report format rendered from fixed fixture result sets (STYLE.md §8).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildReport, formatNames, formats } from '../harness/report/index.js';
import { forestChart, forestData } from '../harness/report/chart-specs.js';
import { renderChartSvg } from '../harness/report/charts.js';
import { completeness } from '../harness/report/completeness.js';
import { hostPerBoot, stayedNoisy, trustBanner, unusedCounts } from '../harness/report/headline.js';
import { CSS, scopeSvgIds } from '../harness/report/html.js';
import { summarize } from '../harness/stats/summary.js';
import { readResultSet, type ResultSet } from '../harness/store/store.js';
import { interrupted, onKvm, withAaControl, withHost, withLongFields, withPlan, withSpeedup } from './fixtures/report-variants.js';

const TCG = fileURLToPath(new URL('./fixtures/results/tcg-mixed/', import.meta.url));

describe('report formats', () => {
  const rs = readResultSet(TCG);
  const summary = summarize(rs);

  it('registry has one entry per format', () => {
    assert.deepEqual(formatNames, ['text', 'csv', 'charts', 'html']);
    for (const f of Object.values(formats)) assert.equal(typeof f.render, 'function');
  });

  it('text: seed-shaped table with intervals, significance, trace volume, flags and emulation notice', async () => {
    const [file] = await formats.text.render(summary, rs);
    const text = String(file!.content);
    assert.equal(file!.path, 'report.txt');
    const lines = text.split('\n');
    assert.match(lines[0]!, /kernel debian-6\.12 \(6\.12\.57\+deb13-amd64\) — accelerator tcg/);
    assert.equal(lines[1], 'EMULATED (TCG): relative overheads under emulation are not those of hardware');
    assert.match(text, /boot 12 \(ktrace\) timeout/);
    assert.match(text, /^Test \/ config +\| Vanilla +\| ftrace +\| lttng +\| ktrace$/m);
    // log-scale Welch interval over 6 vs 6 boots' worth of units: significant at 5 %, Welch p 0.017
    assert.match(text, /^slowdown +\| +\| 17\.3 % \*\*? +\| 18\.2 % \*\*? +\| 10\.1 % \*\*?$/m);
    assert.match(text, /^95 % (CI|interval) +\| +\| \[6\.8, 26\.6\] +\|/m);
    assert.match(text, /insufficient data \(fewer than 2 units on a side\)/); // kernbench: one boot a side
    assert.match(text, /^trace MB\/s +\| +\| 40 +\| 55 +\| 30$/m);
    assert.match(text, /^lost events +\| +\| 5123 ! +\| 0 +\| 0$/m);
    assert.match(text, /n=5, 1 failed/);
    assert.match(text, /flag: ftrace dbench: boot 6 iteration 3 lost 5123 events/);
    assert.match(text, /flag: lttng dbench: boot 7 iteration 3 failed/);
    assert.match(text, /flag: ftrace dbench: outlier boot 2 iteration 2/);
    assert.match(text, /missing warm-up\?/);
    assert.match(text, /per-event cost \(ns per trace event\)/);
    assert.match(text, /^syscall-loop +\| ftrace +\| sys_enter\+sys_exit +\| all recorded events +\| 209\.2 +\| 119\.6 +\| 2 \(CV 0\.0 %\) +\| 44\.82 +\| \[43\.17, 46\.46\] +\| 3\.7 % +\| 3\/3$/m);
    assert.match(text, /published reference, hardware, not measured here/);
  });

  it('csv: samples.csv keeps failed samples, summary.csv one row per cell', async () => {
    const files = await formats.csv.render(summary, rs);
    const samples = String(files.find((f) => f.path === 'samples.csv')!.content).trim().split('\n');
    const summ = String(files.find((f) => f.path === 'summary.csv')!.content).trim().split('\n');
    assert.match(samples[0]!, /^run_id,boot,round,kernel,config,tracer,workload,iteration,warmup,status,metric,value,unit,better,/);
    assert.equal(samples.filter((l) => l.includes(',failed,')).length, 1);
    assert.equal(summ.length, 1 + summary.cells.length);
    // run_status, kernel, config, tracer, aa_control, workload, metric, unit, better, primary, n, boots, failed, noisy, retried, warm-up
    assert.ok(summ.some((l) => l.startsWith('complete,debian-6.12,ktrace,ktrace,false,kernbench,elapsed,s,lower,true,1,1,0,0,0,0,')), summ.join('\n'));
    assert.ok(summ.some((l) => /^complete,debian-6\.12,ktrace,ktrace,false,kernbench,.*,insufficient-data,fewer than 2 units on a side,/.test(l)));
  });

  it('charts: SVG, PNG and the Vega-Lite spec for each chart', async () => {
    const files = await formats.charts.render(summary, rs);
    const names = files.map((f) => f.path).sort();
    for (const c of ['forest', 'trace-volume', 'per-event-cost', 'drift']) {
      assert.ok(names.includes(`charts/${c}.svg`), c);
      assert.ok(names.includes(`charts/${c}.vl.json`), c);
      const png = files.find((f) => f.path === `charts/${c}.png`)!.content as Buffer;
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    }
    const svg = String(files.find((f) => f.path === 'charts/forest.svg')!.content);
    assert.match(svg, /^<svg/);
    assert.match(svg, /ftrace/);
    assert.match(svg, /EMULATED \(TCG\)/);
  });

  it('html: self-contained, with notice, tables, charts and methodology', async () => {
    const [file] = await formats.html.render(summary, rs);
    const html = String(file!.content);
    assert.equal(file!.path, 'index.html');
    assert.ok(!/<script|<link|https?:\/\/(?!vega\.github\.io\/schema)/.test(html.replace(/xmlns(:\w+)?="[^"]+"/g, '')), 'no scripts, stylesheets or network');
    assert.match(html, /id="emulation-notice"/);
    assert.equal((html.match(/<svg/g) ?? []).length, 4);
    assert.match(html, /0123abcd/); // git sha
    assert.match(html, /sha256:9f2c1e/); // kernel config hash
    assert.match(html, /lttng-modules=2\.13\.17/);
    assert.match(html, /mode=flight-recorder/);
    assert.match(html, /NO; tracer did not report its armed set/); // ktrace unverified
    assert.match(html, /<tr class="bad"><td>12<\/td>/); // the timed-out boot
    assert.match(html, /clients=8/);
  });

  it('scopes SVG ids so inline charts do not collide', () => {
    assert.equal(scopeSvgIds('<svg><clipPath id="clip1"/><g clip-path="url(#clip1)"/></svg>', 'c2'), '<svg><clipPath id="c2-clip1"/><g clip-path="url(#c2-clip1)"/></svg>');
  });

  it('buildReport returns every file and the terminal text', async () => {
    const { files, text } = await buildReport(rs);
    assert.ok(files.some((f) => f.path === 'index.html'));
    assert.ok(files.some((f) => f.path === 'report.txt'));
    assert.match(text, /^tracebench run tcg-mixed/);
  });
});

describe('report edge cases', () => {
  it('a run whose every sample failed still reports (counts, no cells)', async () => {
    const rs = readResultSet(TCG);
    const failedOnly = { ...rs, samples: rs.samples.filter((s) => s.status === 'failed') };
    const { files, text } = await buildReport(failedOnly);
    assert.match(text, /^tracebench run tcg-mixed/);
    assert.match(text, /^  debian-6\.12 lttng dbench: boot 7 iteration 3: dbench: no result line/m);
    const html = String(files.find((f) => f.path === 'index.html')!.content);
    assert.match(html, /Failed samples \(counted, not used\)/);
    assert.equal(summarize(failedOnly).cells.length, 0);
  });

  it('a config without vanilla is shown as "no baseline"', async () => {
    const rs = readResultSet(TCG);
    const noVanilla = { ...rs, samples: rs.samples.filter((s) => s.config !== 'vanilla') };
    const s = summarize(noVanilla);
    assert.ok(s.cells.every((c) => c.noBaseline && c.vsBaseline === null));
    const { text } = await buildReport(noVanilla, { formats: ['text'] });
    assert.match(text, /no baseline/);
  });
});

describe('instruction-time runs', () => {
  it('text header, trust banner and per-event note say INSTRUCTION-TIME when the guest clock counted instructions', async () => {
    const base = readResultSet(TCG);
    const note = 'INSTRUCTION-TIME (TCG icount shift=3): the guest clock counts executed instructions, 8 ns each; host load and steal do not reach guest-measured times, and cache and memory latencies are not modelled';
    const rs = { ...base, manifest: { ...base.manifest, notes: [...(base.manifest.notes ?? []), note] } };
    const summary = summarize(rs);
    assert.equal(summary.instructionTime, note);
    const text = String((await formats.text.render(summary, rs))[0]!.content).split('\n');
    assert.deepEqual(text.slice(1, 3), ['EMULATED (TCG): relative overheads under emulation are not those of hardware', note]);
    assert.match(trustBanner(summary, rs).parts[0]!.text, /EMULATED \(TCG\).*INSTRUCTION-TIME/);
    assert.equal(summarize(base).instructionTime, null);
  });
});

describe('report opens with the answer', () => {
  const base = withPlan(readResultSet(TCG));
  const html = async (rs: ResultSet) => String((await formats.html.render(summarize(rs), rs))[0]!.content);

  it('banner: emulated but otherwise trusted (TCG, A/A within chance, host quiet, every planned boot)', () => {
    const rs = withHost(withAaControl(base, 1), null);
    const b = trustBanner(summarize(rs), rs);
    assert.deepEqual(b.parts.map((p) => p.kind), ['emulated', 'trusted']);
    assert.equal(b.level, 'warn');
    assert.equal(b.parts[1]!.text, 'no reason found to distrust this run: A/A control within chance, host quiet, all 15 planned boots recorded');
  });

  it('banner: trusted on KVM is the only green one', () => {
    const rs = onKvm(withHost(withAaControl(base, 1), null));
    const b = trustBanner(summarize(rs), rs);
    assert.deepEqual(b.parts.map((p) => p.kind), ['trusted']);
    assert.equal(b.level, 'ok');
  });

  it('banner: untrusted when the A/A pair differs, naming the workload', () => {
    const rs = onKvm(withAaControl(base, 0.8));
    const s = summarize(rs);
    assert.equal(s.trust.ok, false);
    const b = trustBanner(s, rs);
    assert.equal(b.level, 'bad');
    const u = b.parts.find((p) => p.kind === 'untrusted');
    assert.ok(u && u.kind === 'untrusted');
    assert.match(u.text, /^run cannot be trusted: A\/A control vanilla-aa differs from vanilla on dbench/);
    assert.ok(!b.parts.some((p) => p.kind === 'trusted'));
  });

  it('banner: untrusted when an iteration stayed noisy after retries; a quiet retry alone is not a reason', () => {
    const noisy = withHost(base, 6);
    const b = trustBanner(summarize(noisy), noisy);
    const u = b.parts.find((p) => p.kind === 'untrusted');
    assert.ok(u, JSON.stringify(b.parts));
    assert.match(u.text, /the host was noisy: 1 measured iteration stayed noisy after retries \(boot 6\) and was left out — vCPUs got 61 % of their share/);
    assert.deepEqual(stayedNoisy(noisy.samples).map((n) => [n.boot, n.workload]), [[6, 'dbench']]);
    const counts = unusedCounts(summarize(noisy), noisy);
    assert.equal(counts.noisySamples, 3); // 2 attempts that stayed noisy + 1 retried quietly
    assert.equal(counts.stayedNoisy, 1);
    assert.equal(counts.failedBoots, 1); // boot 12 timed out
    const hosts = hostPerBoot(noisy);
    assert.deepEqual(hosts.find((h) => h.boot === 6), {
      boot: 6, round: 2, config: 'ftrace', status: 'finished', attempt: 1, retried: false,
      quietIterations: hosts.find((h) => h.boot === 6)!.quietIterations, noisyIterations: 3, minVcpuShare: 0.61, maxOtherCores: 0.92,
    });
  });

  it('banner: incomplete when the run was killed — N of M planned boots, no finishedAt', () => {
    const killed = interrupted(base, 7);
    const c = completeness(killed.manifest);
    assert.deepEqual([c.complete, c.recorded, c.planned, c.unfinished], [false, 7, 12, true]);
    const b = trustBanner(summarize(killed), killed);
    assert.equal(b.level, 'bad');
    assert.match(b.parts.find((p) => p.kind === 'incomplete')!.text, /^incomplete: 7 of 12 planned boots \(no finish time/);
    assert.ok(!b.parts.some((p) => p.kind === 'trusted'));
  });

  it('banner: imported numbers are neither trusted nor untrusted — nothing could be checked', () => {
    const imported = structuredClone(base);
    imported.manifest.source = 'import';
    imported.manifest.accelerator = 'unknown';
    delete imported.manifest.finishedAt;
    const b = trustBanner(summarize(imported), imported);
    assert.deepEqual(b.parts.map((p) => p.kind), ['imported']);
    assert.equal(b.level, 'info');
  });

  it('completeness: finished runs, adaptive rounds, retried boots, imports', () => {
    assert.equal(completeness(base.manifest).complete, true);
    // finishedAt set but a round short: still incomplete
    const short = structuredClone(base.manifest);
    short.boots = short.boots.filter((b) => b.boot !== 12);
    assert.match(completeness(short).label!, /^incomplete: 11 of 12 planned boots \(the run ended before its plan did\)/);
    // adaptive: the rounds it reached are planned; its cap is stated, not required
    const adaptive = structuredClone(base.manifest);
    adaptive.suite.definition = { rounds: 2, kernels: ['debian-6.12'], configs: ['vanilla', 'ftrace', 'lttng', 'ktrace'], adaptive: { maxRounds: 6 } };
    assert.deepEqual([completeness(adaptive).complete, completeness(adaptive).planned, completeness(adaptive).plannedMax], [true, 12, 24]);
    delete adaptive.finishedAt;
    assert.match(completeness(adaptive).label!, /^incomplete: 12 of 12 planned boots; adaptive: up to 24 \(no finish time/);
    // a boot that panicked and was retried shares its index with the retry: counted once
    const retried = structuredClone(base.manifest);
    retried.boots.push({ ...retried.boots[3]!, status: 'panic', attempt: 1, retried: true });
    assert.equal(completeness(retried).recorded, 12);
    const imported = { ...structuredClone(base.manifest), source: 'import' as const, finishedAt: undefined };
    assert.equal(completeness(imported).complete, true);
  });

  it('html: banner, answer table, forest plot, MDS, host quietness, then details — in that order', async () => {
    const rs = withSpeedup(withHost(withAaControl(base, 1), 6), 'ktrace', 'dbench', 1.6);
    const page = await html(rs);
    const at = (s: string) => {
      const i = page.indexOf(s);
      assert.ok(i >= 0, `missing ${s}`);
      return i;
    };
    const order = ['id="trust-banner"', 'id="answer"', 'id="chart-forest"', 'id="resolution"', 'id="mds"', 'id="aa"', 'id="host"', 'id="host-per-boot"', 'id="details"', 'id="methodology"'].map(at);
    assert.deepEqual(order, [...order].sort((a, b) => a - b));
    assert.match(page, /<div id="trust-banner" class="banner bad"[^>]*><span id="emulation-notice">EMULATED \(TCG\)/);
    assert.match(page, /<th>Test \/ config<\/th><th>Vanilla<\/th><th>Tracer<\/th><th>Slowdown \[95 % interval\]<\/th><th>Trace MB\/s<\/th>/);
    assert.match(page, /<tr class="bad"><td><strong>dbench<\/strong> · ktrace<\/td><td>251\.5 MB\/s<\/td><td>361\.7 MB\/s<\/td><td>implausible speed-up: -43\.8 % \[-51\.8, -36\.2\]<\/td>/);
    assert.match(page, /<tr class="insufficient"><td><strong>kernbench<\/strong> · ftrace<\/td>.*insufficient data \(fewer than 2 units on a side\)/);
    assert.match(page, /<tr class="aa"><td><strong>dbench<\/strong> · vanilla-aa <span class="muted">\(A\/A control\)<\/span>/);
    assert.match(page, /<td>dbench<\/td><td>±\d+\.\d %<\/td><td>3 \/ 3<\/td>/); // MDS per workload, boots per side
    assert.match(page, /<td>vanilla-aa<\/td><td>dbench<\/td><td>[-\d.]+ % \[[-\d.]+, [-\d.]+\]<\/td><td>within chance<\/td>/);
    assert.match(page, /<p id="unused-counts">1 failed sample · 3 noisy samples \(1 never replaced by a quiet retry\) · 0 retried boots · 1 of 15 boot attempts did not finish/);
    assert.match(page, /<tr class="bad"><td>6<\/td><td>2<\/td><td>ftrace<\/td><td>1<\/td><td>finished<\/td><td>\d+<\/td><td>3<\/td><td>61 %<\/td><td>0\.92<\/td><\/tr>/);
    assert.ok(!/NaN/.test(page.replace(/<svg[\s\S]*?<\/svg>/g, '')), 'no NaN in the text of the page');
  });

  it('html: an incomplete run says so in the banner', async () => {
    const page = await html(interrupted(base, 7));
    assert.match(page, /<span class="incomplete">incomplete: 7 of 12 planned boots/);
  });

  it('html: long fields wrap — cells may break anywhere, manifest tables have a fixed layout', async () => {
    const page = await html(withLongFields(base));
    assert.match(CSS, /th,td\{[^}]*overflow-wrap:anywhere/);
    assert.match(CSS, /table\.fixed\{table-layout:fixed;width:100%\}/);
    assert.match(CSS, /code\{[^}]*overflow-wrap:anywhere/);
    assert.match(page, /<table id="tracer-configs" class="fixed">\n<colgroup>/);
    assert.match(page, /<table id="boots" class="fixed">/);
    // the QEMU argv is a space-separated command line, not one unbreakable JSON string
    assert.match(page, /qemuArgsExample=qemu-system-x86_64 -accel tcg,thread=multi/);
  });

  it('forest plot: every slowdown with its interval, a zero line, the A/A row and the MDS band per workload', () => {
    const rs = withSpeedup(withAaControl(base, 1), 'ktrace', 'dbench', 1.6);
    const s = summarize(rs);
    const data = forestData(s);
    const panels = data.filter((d) => d.kind === 'panel');
    assert.deepEqual(panels.map((p) => p.panel.split(',')[0]), ['dbench', 'kernbench', 'syscall-loop']);
    const dbenchMds = s.mds.find((m) => m.workload === 'dbench')!.value!;
    assert.equal(panels[0]!.kind === 'panel' && panels[0]!.mdsPct, dbenchMds * 100);
    assert.match(panels[0]!.panel, new RegExp(`minimum detectable slowdown ±${(dbenchMds * 100).toFixed(1)} %`));
    const rows = data.filter((d) => d.kind === 'row' && d.panel === panels[0]!.panel);
    assert.deepEqual(rows.map((r) => r.kind === 'row' && [r.label, r.status]), [
      ['ftrace', 'interval'], ['lttng', 'interval'], ['ktrace', 'implausible'], ['vanilla-aa (A/A control)', 'aa-control'],
    ]);
    const kern = data.filter((d) => d.kind === 'row' && d.panel.startsWith('kernbench'));
    assert.ok(kern.every((r) => r.kind === 'row' && r.status === 'insufficient' && r.loPct === null && r.note === 'insufficient data'));
    const chart = forestChart(s)!;
    const spec = chart.spec as unknown as { vconcat: { layer: { mark: { type: string }; encoding: Record<string, { field?: string }>; data: { values: unknown[] } }[] }[] };
    assert.equal(spec.vconcat.length, 3);
    const layers = spec.vconcat[0]!.layer;
    assert.deepEqual(layers.map((l) => l.mark.type), ['rect', 'rule', 'rule', 'point', 'text']);
    assert.deepEqual(layers[1]!.data.values, [{ zero: 0 }]); // the zero line
    assert.deepEqual([layers[0]!.encoding.x!.field, layers[0]!.encoding.x2!.field], ['negMdsPct', 'mdsPct']);
    assert.deepEqual([layers[2]!.encoding.x!.field, layers[2]!.encoding.x2!.field], ['loPct', 'hiPct']);
    assert.equal(layers[2]!.data.values.length, 4); // dbench: every row has an interval
    assert.equal(spec.vconcat[1]!.layer[0]!.mark.type, 'rule'); // kernbench: no MDS, no band
  });

  it('forest plot renders to SVG with the A/A and implausible rows labelled', async () => {
    const rs = withSpeedup(withAaControl(base, 1), 'ktrace', 'dbench', 1.6);
    const svg = await renderChartSvg(forestChart(summarize(rs))!);
    assert.match(svg, /vanilla-aa \(A\/A control\)/);
    assert.match(svg, /implausible speed-up/);
    assert.match(svg, /minimum detectable slowdown ±/);
  });

  it('summary.csv states an incomplete run on every row', async () => {
    const killed = interrupted(base, 7);
    const files = await formats.csv.render(summarize(killed), killed);
    const rows = String(files.find((f) => f.path === 'summary.csv')!.content).trim().split('\n').slice(1);
    assert.ok(rows.length > 0 && rows.every((l) => l.startsWith('"incomplete: 7 of 12 planned boots')));
  });
});
