import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crewWords } from '../../drivers/contract/health.ts';
import { COMMAND_FAILURES } from '../../gateway/commands/failures.ts';
import { launchVillage, type Village } from '../../device-sims/village/launch.ts';
import { PROBE_PASSWORD_ENV, villageYaml } from '../../device-sims/village/config.ts';
import { ROOT, stopAll } from '../helpers/procs.ts';
import { simControl, startGateway, TEST_TOKEN, type GatewayProc } from '../helpers/gateway.ts';

// The crew's page gate by gate, in a real headless Chromium on a phone, against a real
// gateway polling a demo-like village: four barriers (two on an RS-485 line of a socat
// pty pair when socat exists) and four cameras, each simulator its own process.

const SHOTS = path.join(ROOT, 'test-results');
const README_SHOT = path.join(ROOT, 'docs', 'img', 'status-page.png');
const READER = 'crew-reader-token-0123456789';
const AXE = path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');

const FAULT_1 = `barrier-fault:1: ${crewWords('barrier-fault:1')}`;
const INTERLOCK_FAULT = COMMAND_FAILURES.find(
  (f) => f.title === 'interlock:barrier-fault:<code>',
)!.description;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core in the page; serious and critical violations, each with where. */
async function accessibility(page: Page): Promise<string[]> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.addScriptTag({ path: AXE });
  const violations = (await page.evaluate(
    'window.axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)',
  )) as AxeViolation[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe('status page, gate by gate, on a phone', () => {
  let village: Village;
  let gw: GatewayProc;
  let yaml: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const devicesPolled: string[] = [];

  const card = (id: string) => page.locator(`#devices li[data-device="${id}"]`);
  /**
   * A phone. The page's CSP forbids inline scripts, which is how addScriptTag injects
   * axe: pages that axe inspects bypass it; the others keep it, and must not break it.
   */
  const phone = (axe = false) =>
    browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      colorScheme: 'dark',
      bypassCSP: axe,
    });
  const cspViolations: string[] = [];
  /** A page signed in and live, every camera's picture drawn (decoded, not just requested). */
  async function liveBoard(p: Page, token: string): Promise<void> {
    await p.goto(`${gw.api}/#token=${token}`);
    await expect.poll(() => p.locator('#live').textContent(), { timeout: 20_000 }).toBe('live');
    await expect.poll(() => p.locator('#devices li').count(), { timeout: 20_000 }).toBe(8);
    await expect
      .poll(
        () =>
          p
            .locator('li.probe .thumb img')
            .evaluateAll(
              (imgs) =>
                imgs.filter((i) => (i as unknown as { naturalWidth: number }).naturalWidth > 0).length,
            ),
        { timeout: 30_000 },
      )
      .toBe(village.probes.length);
  }
  const control = (id: string) => village.barriers.find((b) => b.id === id)!;

  beforeAll(async () => {
    village = await launchVillage({ traffic: 'off' });
    const tokens = [
      'api:',
      '  tokens:',
      '    - { name: crew-lead, role: admin, token: { env: GATEHOUSE_API_TOKEN } }',
      '    - { name: crew, role: reader, token: { env: GH_TEST_READER } }',
      '',
    ].join('\n');
    yaml = villageYaml(village, { village: 'oakfield' }) + tokens;
    gw = await startGateway(yaml, {
      env: { [PROBE_PASSWORD_ENV]: village.probes[0]!.password, GH_TEST_READER: READER },
    });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context = await phone();
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/.test(m.text())) cspViolations.push(m.text());
    });
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/v1/devices') devicesPolled.push(r.url());
    });
    mkdirSync(SHOTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await village?.stop();
    await stopAll();
  });

  it('shows every lane with its barrier, its camera and a picture, and the gateway strip', async () => {
    await liveBoard(page, TEST_TOKEN);
    const lanes = village.barriers.map((b) => b.lane).sort();
    expect((await page.locator('article.lane h3').allTextContents()).sort()).toEqual(
      lanes.map((l) => `lane ${l}`),
    );
    for (const lane of lanes) {
      const box = page.locator(`article.lane[data-lane="main-lot/${lane}"]`);
      expect(await box.locator('li.barrier').count(), lane).toBe(1);
      expect(await box.locator('li.probe').count(), lane).toBe(1);
    }
    await expect
      .poll(() => page.locator('#summary').textContent(), { timeout: 30_000 })
      .toBe('8 devices · all online');
    const strip = await page.locator('#gateway .chip').allTextContents();
    expect(strip.join(' | ')).toMatch(/disk .* free .* \| MQTT \d+ client/);
    expect(await card('barrier-1').locator('dl').textContent()).toMatch(/photo-eye/);
    expect(await card('probe-1').locator('dl').textContent()).toMatch(/IR\s*(auto|on|off)/);
    await page.screenshot({ path: path.join(SHOTS, 'status-page-lanes-phone.png'), fullPage: true });
    expect(cspViolations).toEqual([]);

    const checked = await phone(true);
    try {
      const p = await checked.newPage();
      await liveBoard(p, TEST_TOKEN);
      expect(await accessibility(p)).toEqual([]);
      // The confirmation step too, open over the board.
      await p.locator('li[data-device="barrier-1"] button[data-action="hold-open"]').tap();
      await expect.poll(() => p.locator('#confirm').isVisible()).toBe(true);
      expect(await accessibility(p)).toEqual([]);
      await p.locator('#confirm button[value="cancel"]').tap();
    } finally {
      await checked.close();
    }
  });

  it('shows a fault injected into a controller live, in plain words, without a reload or a poll', async () => {
    await page.evaluate('window.__sameDocument = true');
    const polledBefore = devicesPolled.length;
    await simControl(control('barrier-2').control, '/fault', {
      unit: control('barrier-2').unit,
      fault: 'motor-overcurrent',
      active: true,
    });
    await expect
      .poll(() => card('barrier-2').locator('.reason').textContent(), { timeout: 10_000, interval: 200 })
      .toBe(FAULT_1);
    expect(await card('barrier-2').locator('.status').textContent()).toBe('degraded');
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    expect(devicesPolled.length).toBe(polledBefore); // the stream brought it, not the fallback
    // Problems first: the faulted lane leads, and its events say what happened.
    expect(await page.locator('article.lane').first().getAttribute('data-lane')).toBe(
      `main-lot/${control('barrier-2').lane}`,
    );
    await expect
      .poll(() => page.locator('#village-events').textContent(), { timeout: 5000 })
      .toMatch(/barrier-2 · fault 1/);
    // The README's picture: the top of the page on a phone at night, a fault leading.
    await page.evaluate('window.scrollTo(0, 0)');
    const shot = path.join(SHOTS, 'status-page-village.png');
    await page.screenshot({
      path: shot,
      fullPage: true,
      clip: { x: 0, y: 0, width: 390, height: 1400 },
      scale: 'css',
    });
    if (process.env.GATEHOUSE_UPDATE_DOCS === '1') {
      mkdirSync(path.dirname(README_SHOT), { recursive: true });
      copyFileSync(shot, README_SHOT);
    }
  });

  it('sends a gate command after a confirmation and follows it to confirmed; a refused one says why', async () => {
    await card('barrier-1').locator('button[data-action="open"]').tap();
    await expect.poll(() => page.locator('#confirm').isVisible()).toBe(true);
    expect(await page.locator('#confirm-title').textContent()).toBe(
      'open barrier-1 (lane lane-1, main-lot)?',
    );
    expect(await page.locator('#confirm-words').textContent()).toBe('This will open the arm.');
    await page.screenshot({ path: path.join(SHOTS, 'status-page-confirm.png') });
    await page.locator('#confirm-go').tap();
    const progress = card('barrier-1').locator('.progress');
    await expect.poll(() => progress.getAttribute('data-state'), { timeout: 20_000 }).toBe('confirmed');
    expect(await progress.textContent()).toBe('open: accepted → executing → confirmed');
    await expect
      .poll(() => card('barrier-1').locator('dl').textContent(), { timeout: 10_000 })
      .toMatch(/arm\s*open/);

    // A hold-open for a minute: the duration reaches the API.
    const body = page.waitForRequest((r) => r.method() === 'POST' && r.url().includes('/barrier-1/commands'));
    await card('barrier-1').locator('button[data-action="hold-open"]').tap();
    expect(await page.locator('#confirm-hold').isVisible()).toBe(true);
    await page.locator('#hold-seconds').selectOption('60');
    await page.locator('#confirm-go').tap();
    expect((await body).postDataJSON()).toMatchObject({ action: 'hold-open', holdSeconds: 60 });
    await expect.poll(() => progress.getAttribute('data-state'), { timeout: 20_000 }).toBe('confirmed');

    // Cancel sends nothing.
    const posts: string[] = [];
    page.on('request', (r) => r.method() === 'POST' && posts.push(r.url()));
    await card('barrier-1').locator('button[data-action="release"]').tap();
    await page.locator('#confirm button[value="cancel"]').tap();
    await page.waitForTimeout(300);
    expect(posts).toEqual([]);

    // The controller in fault: the gateway refuses before writing, and the page says what to do.
    await card('barrier-2').locator('button[data-action="open"]').tap();
    await page.locator('#confirm-go').tap();
    const refused = card('barrier-2').locator('.progress');
    await expect.poll(() => refused.getAttribute('data-state'), { timeout: 20_000 }).toBe('failed');
    const why = await refused.textContent();
    expect(why).toMatch(/^open: accepted → (.* → )?failed \(interlock:barrier-fault:1\): /);
    expect(why).toContain(INTERLOCK_FAULT);
    await page.screenshot({ path: path.join(SHOTS, 'status-page-commands.png'), fullPage: true });
    expect(cspViolations).toEqual([]);
  });

  it('shows a reader the same lanes with no buttons, and the API refuses its command anyway', async () => {
    const crew = await phone(true);
    try {
      const p = await crew.newPage();
      await liveBoard(p, READER);
      expect(await p.locator('#devices button.act').count()).toBe(0);
      expect(await p.locator('.actions').count()).toBe(0);
      const status = await p.evaluate(
        `fetch('/api/v1/barriers/barrier-1/commands', {
          method: 'POST',
          headers: { authorization: 'Bearer ${READER}', 'content-type': 'application/json' },
          body: JSON.stringify({ requestId: 'reader-try-1', action: 'open', reason: 'test' }),
        }).then((r) => r.status)`,
      );
      expect(status).toBe(403);
      expect(await accessibility(p)).toEqual([]);
      await p.screenshot({ path: path.join(SHOTS, 'status-page-reader.png'), fullPage: true });
    } finally {
      await crew.close();
    }
  });

  it('keeps the sign-in form accessible', async () => {
    const fresh = await phone(true);
    try {
      const p = await fresh.newPage();
      await p.goto(gw.api);
      await expect.poll(() => p.locator('#login').isVisible(), { timeout: 10_000 }).toBe(true);
      expect(await accessibility(p)).toEqual([]);
    } finally {
      await fresh.close();
    }
  });

  it('marks itself stale when the gateway goes, and comes back live on its own when it returns', async () => {
    const port = Number(new URL(gw.api).port);
    await gw.proc.stop();
    await expect
      .poll(() => page.locator('#summary').textContent(), { timeout: 15_000 })
      .toBe('gateway not reachable — retrying');
    expect(await page.locator('body').getAttribute('class')).toContain('stale');
    await page.screenshot({ path: path.join(SHOTS, 'status-page-stale.png') });
    gw = await startGateway(yaml, {
      apiPort: port,
      mqttPort: gw.mqttPort,
      dataDir: gw.dataDir,
      env: { [PROBE_PASSWORD_ENV]: village.probes[0]!.password, GH_TEST_READER: READER },
    });
    await expect.poll(() => page.locator('#live').textContent(), { timeout: 45_000 }).toBe('live');
    expect(await page.locator('body').getAttribute('class')).not.toContain('stale');
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
  }, 120_000);
});
