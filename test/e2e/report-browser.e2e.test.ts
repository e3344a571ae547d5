// Opens generated HTML reports in headless Chromium (Debian's `chromium`,
// driven by playwright-core; never `npx playwright install`): the charts and
// tables must render, the console must stay clean, nothing may go to the
// network, the page must not scroll sideways at 1280 px (long option strings,
// argv and paths wrap), the answer must come first, and a screenshot is kept
// next to the report.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { writeReport } from '../../harness/cli/report.js';
import { importCsv } from '../../harness/import.js';
import { PROJECT_ROOT } from '../../harness/paths.js';
import { appendSample, readResultSet, writeManifest, type ResultSet } from '../../harness/store/store.js';
import { interrupted, withAaControl, withHost, withLongFields, withPlan, withSpeedup } from '../fixtures/report-variants.js';

const CHROMIUM = '/usr/bin/chromium';
const FIXTURE = fileURLToPath(new URL('../fixtures/results/tcg-mixed/', import.meta.url));
const SEED_CSV = join(PROJECT_ROOT, 'configs/examples/seed-2009.csv');
// Outside CI a developer without chromium gets a skip that says what to install;
// in CI (.ci/run installs it) a missing browser is a failure, not a skip.
const skip = !existsSync(CHROMIUM) && !process.env.CI
  ? `${CHROMIUM} not found: apt-get install -y chromium fonts-dejavu-core (CI installs it and runs this test)`
  : false;

describe('HTML report in headless Chromium', { skip }, () => {
  let browser: Browser;
  before(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
  });

  async function check(reportDir: string, expectSvgs: number, expectNotice: boolean): Promise<string> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) problems.push(`network request: ${r.url()}`);
    });
    page.on('requestfailed', (r) => problems.push(`failed request: ${r.url()}`));
    await page.goto(pathToFileURL(join(reportDir, 'index.html')).href, { waitUntil: 'load' });

    const svgs = await page.locator('figure svg').all();
    assert.equal(svgs.length, expectSvgs, 'inline charts');
    for (const svg of svgs) {
      const box = await svg.boundingBox();
      assert.ok(box && box.width > 100 && box.height > 100, `chart renders with a size: ${JSON.stringify(box)}`);
      assert.ok((await svg.locator('path, rect, line').count()) > 5, 'chart has marks');
    }
    const tables = await page.locator('table').all();
    assert.ok(tables.length >= 4, `tables: ${tables.length}`);
    for (const t of tables) assert.ok(await t.isVisible());
    assert.equal(await page.locator('th', { hasText: 'Test / config' }).first().isVisible(), true);
    assert.equal(await page.locator('#emulation-notice').count(), expectNotice ? 1 : 0);
    if (expectNotice) assert.match(await page.locator('#emulation-notice').innerText(), /EMULATED \(TCG\)/);
    // nothing scrolls sideways at 1280 px: long values wrap inside their cells
    const { scrollWidth, wide } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      wide: [...document.querySelectorAll('table, figure, p, pre')].filter((e) => e.getBoundingClientRect().right > window.innerWidth).map((e) => e.id || e.tagName),
    }));
    assert.ok(scrollWidth <= 1280, `page is ${scrollWidth} px wide at a 1280 px viewport; too wide: ${wide.join(', ')}`);
    // the answer comes first: the banner and the answer table start within the first screen
    const banner = await page.locator('#trust-banner').boundingBox();
    assert.ok(banner && banner.y < 300, `trust banner at ${JSON.stringify(banner)}`);
    const answer = await page.locator('#answer, #answer-heading').first().boundingBox();
    assert.ok(answer && answer.y < 900, `answer at ${JSON.stringify(answer)}`);
    const shot = join(reportDir, 'screenshot.png');
    await page.screenshot({ path: shot, fullPage: true });
    await page.close();
    assert.deepEqual(problems, []);
    assert.ok(statSync(shot).size > 10_000, 'screenshot written');
    return shot;
  }

  it('renders the synthetic TCG run: 4 charts, tables, emulation notice, no console errors', async () => {
    const { reportDir } = await writeReport(FIXTURE, join(PROJECT_ROOT, 'reports', 'tcg-mixed'));
    const shot = await check(reportDir, 4, true);
    process.stdout.write(`screenshot: ${shot}\n`);
  });

  /** write a variant result set where writeReport can read it */
  function writeRun(rs: ResultSet): string {
    const dir = mkdtempSync(join(tmpdir(), `tracebench-${rs.manifest.runId}-`));
    writeManifest(dir, rs.manifest);
    for (const s of rs.samples) appendSample(dir, s);
    return dir;
  }

  it('a real-sized manifest (QEMU argv, long options and paths) wraps at 1280 px; forest plot, A/A, host table render', async () => {
    const rs = withSpeedup(withHost(withAaControl(withLongFields(withPlan(readResultSet(FIXTURE))), 1), 6), 'ktrace', 'dbench', 1.6);
    rs.manifest.runId = 'tcg-long-fields';
    const runDir = writeRun(rs);
    try {
      const { reportDir } = await writeReport(runDir, join(PROJECT_ROOT, 'reports', 'tcg-long-fields'));
      const shot = await check(reportDir, 4, true);
      process.stdout.write(`screenshot: ${shot}\n`);
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(pathToFileURL(join(reportDir, 'index.html')).href, { waitUntil: 'load' });
      assert.match(await page.locator('#trust-banner').innerText(), /run cannot be trusted: the host was noisy/);
      assert.match(await page.locator('#answer').innerText(), /implausible speed-up: -43\.8 %/);
      const forest = page.locator('#chart-forest svg');
      assert.ok(await forest.isVisible());
      assert.match(await forest.innerHTML(), /vanilla-aa \(A\/A control\)/);
      assert.ok((await page.locator('#host-per-boot tbody tr').count()) >= 15);
      // the tracer-configuration table, the one that used to scroll, fits its column
      const t = await page.locator('#tracer-configs').boundingBox();
      assert.ok(t && t.x + t.width <= 1280, `tracer table ${JSON.stringify(t)}`);
      await page.close();
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });

  it('a killed run says "incomplete: N of M planned boots" in its banner', async () => {
    const rs = interrupted(withPlan(readResultSet(FIXTURE)), 7);
    rs.manifest.runId = 'tcg-killed';
    const runDir = writeRun(rs);
    try {
      const { reportDir } = await writeReport(runDir, join(PROJECT_ROOT, 'reports', 'tcg-killed'));
      await check(reportDir, 4, true);
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(pathToFileURL(join(reportDir, 'index.html')).href, { waitUntil: 'load' });
      assert.match(await page.locator('#trust-banner').innerText(), /incomplete: 7 of 12 planned boots/);
      assert.equal(await page.locator('#trust-banner').getAttribute('class'), 'banner bad');
      await page.close();
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });

  it("renders the imported seed numbers (n = 1 cells, no trace volume)", async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'tracebench-seed-'));
    try {
      const { manifest, samples } = importCsv(readFileSync(SEED_CSV, 'utf8'), {
        runId: 'seed-2009', importedAt: '2026-01-01T00:00:00Z', toolVersion: '0.1.0', file: 'configs/examples/seed-2009.csv', kernel: '2.6.29-rc7',
      });
      writeManifest(runDir, manifest);
      for (const s of samples) appendSample(runDir, s);
      const { reportDir } = await writeReport(runDir, join(PROJECT_ROOT, 'reports', 'seed-2009'));
      await check(reportDir, 1, false); // slowdown only: imports carry no trace volume or boots
      const html = readFileSync(join(reportDir, 'index.html'), 'utf8');
      assert.match(html, /12\.3 %/);
      assert.match(html, /4\.1 %/);
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });
});
