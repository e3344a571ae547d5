// Every report format rendered from fixed fixture result sets (STYLE.md §8).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildReport, formatNames, formats } from '../harness/report/index.js';
import { scopeSvgIds } from '../harness/report/html.js';
import { summarize } from '../harness/stats/summary.js';
import { readResultSet } from '../harness/store/store.js';

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
    assert.match(text, /^slowdown +\| +\| 17\.4 % \*\* +\|/m);
    assert.match(text, /^95 % CI +\| +\| \[\d+\.\d, \d+\.\d\] +\|/m);
    assert.match(text, /CI n\/a \(n<2\)/); // kernbench n = 1
    assert.match(text, /^trace MB\/s +\| +\| 40 +\| 55 +\| 30$/m);
    assert.match(text, /^lost events +\| +\| 5123 ! +\| 0 +\| 0$/m);
    assert.match(text, /n=5, 1 failed/);
    assert.match(text, /flag: ftrace dbench: boot 6 iteration 3 lost 5123 events/);
    assert.match(text, /flag: lttng dbench: boot 7 iteration 3 failed/);
    assert.match(text, /flag: ftrace dbench: outlier boot 2 iteration 2/);
    assert.match(text, /missing warm-up\?/);
    assert.match(text, /per-event cost \(syscall-loop\)/);
    assert.match(text, /^ftrace +\| 209\.2 +\| 119\.6 +\| 2 +\| 44\.82$/m);
  });

  it('csv: samples.csv keeps failed samples, summary.csv one row per cell', async () => {
    const files = await formats.csv.render(summary, rs);
    const samples = String(files.find((f) => f.path === 'samples.csv')!.content).trim().split('\n');
    const summ = String(files.find((f) => f.path === 'summary.csv')!.content).trim().split('\n');
    assert.match(samples[0]!, /^run_id,boot,round,kernel,config,tracer,workload,iteration,warmup,status,metric,value,unit,better,/);
    assert.equal(samples.filter((l) => l.includes(',failed,')).length, 1);
    assert.equal(summ.length, 1 + summary.cells.length);
    assert.ok(summ.some((l) => l.startsWith('debian-6.12,ktrace,ktrace,kernbench,elapsed,s,lower,true,1,0,0,')));
  });

  it('charts: SVG, PNG and the Vega-Lite spec for each chart', async () => {
    const files = await formats.charts.render(summary, rs);
    const names = files.map((f) => f.path).sort();
    for (const c of ['slowdown', 'trace-volume', 'per-event-cost', 'drift']) {
      assert.ok(names.includes(`charts/${c}.svg`), c);
      assert.ok(names.includes(`charts/${c}.vl.json`), c);
      const png = files.find((f) => f.path === `charts/${c}.png`)!.content as Buffer;
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    }
    const svg = String(files.find((f) => f.path === 'charts/slowdown.svg')!.content);
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
