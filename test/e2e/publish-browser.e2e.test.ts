// The published site, opened in headless Chromium from file://: the index lists
// the runs, trend charts are there, every link resolves to a file, and no page
// logs a console error. Runs in CI (CI set) unconditionally; elsewhere it skips
// only when /usr/bin/chromium is missing (install it with apt, never with
// `npx playwright install`).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { publishSite } from '../../harness/cli/publish.js';
import { writeSyntheticRun, type SyntheticRun } from '../fixtures/compare/synthetic.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = !process.env.CI && !existsSync(CHROMIUM) ? `${CHROMIUM} missing (apt-get install -y chromium)` : false;

const tracers = { lttng: 0.1, ftrace: 0.2 };
const night = (d: number, extra: Partial<SyntheticRun> = {}): SyntheticRun => ({
  runId: `nightly-2025-01-0${d}`,
  seed: d,
  n: 30,
  tracers,
  startedAt: `2025-01-0${d}T02:00:00Z`,
  ...extra,
});

describe('published site in headless Chromium', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'tracebench-publish-'));
  const results = join(work, 'results');
  const site = join(work, 'site');
  let browser: Browser;

  before(async () => {
    for (const d of [1, 2, 3]) writeSyntheticRun(results, night(d));
    // night 4 makes LTTng 30 % more expensive on dbench: a regression to mark
    writeSyntheticRun(results, night(4, { plant: { config: 'lttng', workload: 'dbench', factor: 1.3 } }));
    await publishSite(results, site);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    rmSync(work, { recursive: true, force: true });
  });

  /** Open a page, returning its console errors and the local files its links point to. */
  async function visit(path: string): Promise<{ page: Page; errors: string[]; links: string[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
    const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => (a as HTMLAnchorElement).href));
    const links = hrefs.filter((h) => !h.includes('#') || !h.startsWith(page.url())).map((h) => h.split('#')[0]!);
    return { page, errors, links };
  }

  test('the index lists every run, marks the regression and shows trend charts', async () => {
    const { page, errors } = await visit(join(site, 'index.html'));
    const rows = await page.$$eval('#runs tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    assert.equal(rows.length, 4);
    assert.match(rows[0]!, /nightly-2025-01-04/); // newest first
    assert.match(rows[0]!, /1 regression/);
    assert.match(rows[0]!, /tcg \(emulated\)/);
    assert.match(rows[3]!, /first run/);
    const charts = await page.$$eval('figure.trend svg', (s) => s.length);
    assert.equal(charts, 4, 'one trend chart per config x workload (2 x 2)');
    // the regression marker is a filled red triangle in the lttng/dbench chart
    const marked = await page.$$eval('#trend-lttng-dbench svg path[fill="#cf222e"]', (p) => p.length);
    assert.ok(marked >= 1, 'regression marked in the lttng / dbench trend');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('every link of every page resolves to a file, with no console errors', async () => {
    const seen = new Set<string>();
    const queue = [pathToFileURL(join(site, 'index.html')).href];
    while (queue.length > 0) {
      const url = queue.shift()!;
      if (seen.has(url)) continue;
      seen.add(url);
      const file = fileURLToPath(url);
      assert.ok(existsSync(file) && statSync(file).isFile(), `link target missing: ${file}`);
      if (!file.endsWith('.html')) continue;
      const { page, errors, links } = await visit(file);
      assert.deepEqual(errors, [], `console errors on ${file}`);
      for (const l of links) {
        assert.ok(l.startsWith('file://'), `${file} links off-site (${l}): the site must work offline`);
        queue.push(l);
      }
      await page.close();
    }
    // index + 4 reports + 3 comparison pages at least
    assert.ok([...seen].filter((u) => u.endsWith('.html')).length >= 8, [...seen].join('\n'));
  });

  test('publishing again adds a new run and keeps earlier pages, even once their results are gone', async () => {
    const oldReport = join(site, 'runs/nightly-2025-01-01/index.html');
    const before = statSync(oldReport).mtimeMs;
    rmSync(join(results, 'nightly-2025-01-01'), { recursive: true });
    writeSyntheticRun(results, night(5));
    const build = await publishSite(results, site);
    assert.deepEqual(build.rebuilt, ['nightly-2025-01-05']);
    assert.equal(statSync(oldReport).mtimeMs, before, 'an earlier report was regenerated');
    const { page, errors } = await visit(join(site, 'index.html'));
    const ids = await page.$$eval('#runs tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent?.replace(/\s*baseline$/, '') ?? ''));
    assert.deepEqual(ids, ['nightly-2025-01-05', 'nightly-2025-01-04', 'nightly-2025-01-03', 'nightly-2025-01-02', 'nightly-2025-01-01']);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a run killed and never resumed is labelled incomplete on the index and on its page, until it is resumed', async () => {
    // night 6 was killed after 12 of its 90 planned boots (30 rounds x 3 configs): no finishedAt
    const plan = { name: 'standard', rounds: 30, kernels: ['debian'], configs: ['vanilla', 'lttng', 'ftrace'] };
    const boots = (n: number) => Array.from({ length: n * 3 }, (_, i) => ({
      boot: i + 1, round: Math.floor(i / 3) + 1, kernel: 'debian', config: plan.configs[i % 3]!, status: 'finished' as const, wallS: 60, console: `raw/boot-${i + 1}/console.log`,
    }));
    const killed = night(6, { n: 4, manifest: { suite: { name: 'standard', definition: plan }, boots: boots(4), finishedAt: undefined } });
    writeSyntheticRun(results, killed);
    await publishSite(results, site);
    const { page, errors } = await visit(join(site, 'index.html'));
    const row = page.locator('#runs tbody tr', { hasText: 'nightly-2025-01-06' });
    assert.equal(await row.getAttribute('class'), 'incomplete-run');
    assert.equal(await row.locator('.incomplete').innerText(), 'incomplete: 12 of 90 planned boots');
    const others = await page.$$eval('#runs tbody tr:not(.incomplete-run)', (trs) => trs.length);
    assert.equal(others, 5, 'finished runs carry no label');
    assert.deepEqual(errors, []);
    await page.close();
    const run = await visit(join(site, 'runs/nightly-2025-01-06/index.html'));
    assert.match(await run.page.locator('#trust-banner').innerText(), /incomplete: 12 of 90 planned boots/);
    await run.page.close();

    // resumed to the end: the label goes, the page is rebuilt
    writeSyntheticRun(results, night(6, { n: 30, manifest: { suite: { name: 'standard', definition: plan }, boots: boots(30) } }));
    const build = await publishSite(results, site);
    assert.ok(build.rebuilt.includes('nightly-2025-01-06'));
    assert.equal(build.index.runs.find((r) => r.runId === 'nightly-2025-01-06')!.incomplete, null);
    const again = await visit(join(site, 'runs/nightly-2025-01-06/index.html'));
    assert.doesNotMatch(await again.page.locator('#trust-banner').innerText(), /incomplete/);
    await again.page.close();
  });
});
