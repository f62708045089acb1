import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, stopAll } from '../helpers/procs.ts';
import { startBarrierSim, startGateway, TEST_TOKEN, type GatewayProc } from '../helpers/gateway.ts';

// The crew's status page in a real headless Chromium on a phone-sized screen, against
// a real gateway process polling two real barrier simulator processes.

const SHOTS = path.join(ROOT, 'test-results');

function twoBarriers(portA: number, portB: number): string {
  const bus = (id: string, port: number) =>
    `  - { id: ${id}, type: tcp, host: 127.0.0.1, port: ${port}, timeoutMs: 300 }`;
  const barrier = (id: string, busId: string, lane: string) =>
    `  - { id: ${id}, kind: barrier, driver: modbus, bus: ${busId}, unit: 1, profile: northgate-hr, lane: ${lane}, pollMs: 500 }`;
  return [
    'village: nightshift',
    'site: north-lot',
    'buses:',
    bus('tcp-a', portA),
    bus('tcp-b', portB),
    'devices:',
    barrier('barrier-1', 'tcp-a', 'lane-1'),
    barrier('barrier-2', 'tcp-b', 'lane-2'),
    '',
  ].join('\n');
}

describe('status page on a phone', () => {
  let gw: GatewayProc;
  let victim: Awaited<ReturnType<typeof startBarrierSim>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  const card = (id: string) => page.locator(`#devices li[data-device="${id}"]`);
  const phone = () =>
    browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      colorScheme: 'dark',
    });

  beforeAll(async () => {
    const [keep, sim] = await Promise.all([startBarrierSim(), startBarrierSim()]);
    victim = sim;
    gw = await startGateway(twoBarriers(keep.modbus, sim.modbus));
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
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await stopAll();
  });

  it('signs in from the link, drops the token from the address bar and shows the devices online', async () => {
    await page.goto(`${gw.api}/#token=${TEST_TOKEN}`);
    await expect
      .poll(() => card('barrier-1').locator('.status').textContent(), { timeout: 15_000 })
      .toBe('online');
    await expect
      .poll(() => card('barrier-2').locator('.status').textContent(), { timeout: 15_000 })
      .toBe('online');
    expect(page.url()).not.toContain(TEST_TOKEN);
    expect(await page.locator('#village').textContent()).toBe('nightshift');
    await expect.poll(() => page.locator('#summary').textContent()).toBe('2 devices · all online');
    expect(await card('barrier-1').textContent()).toMatch(/north-lot \/ lane-1/);
    await expect.poll(() => page.locator('#sites').textContent()).toMatch(/^north-lot: \d+ inside/);
    expect(await page.locator('#login').isVisible()).toBe(false);
  });

  it('turns a card offline with the reason in plain words when its controller dies, problems first', async () => {
    victim.proc.child.kill('SIGKILL');
    await victim.proc.exited;
    await expect
      .poll(() => card('barrier-2').locator('.status').textContent(), { timeout: 15_000, interval: 500 })
      .toBe('offline');
    const reason = await card('barrier-2').locator('.reason').textContent();
    expect(reason).toMatch(
      /^(timeout: no answer in time — check power and cable|connection-refused: device refused the connection — is it running\?)$/,
    );
    const order = await page
      .locator('#devices li')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-device')));
    expect(order).toEqual(['barrier-2', 'barrier-1']);
    expect(await page.locator('#summary').textContent()).toBe('2 devices · 1 needs attention');
    expect(await page.locator('#summary').getAttribute('class')).toBe('bad');
    // Its readings are from before it went away, and the card says so.
    expect(await card('barrier-2').locator('.last-known').textContent()).toBe('last known readings:');
    expect(await card('barrier-1').locator('.last-known').count()).toBe(0);
    expect(await card('barrier-2').locator('.meta').textContent()).toMatch(/^barrier · offline for \d+ s/);

    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'status-page-phone.png'), fullPage: true });
  });

  it('shows only the devices with a problem when asked, and all again after', async () => {
    await page.locator('#problems-only').check();
    const ids = () =>
      page.locator('#devices li').evaluateAll((els) => els.map((e) => e.getAttribute('data-device')));
    expect(await ids()).toEqual(['barrier-2']);
    // Survives the next refresh (every 2 s), not just the click.
    await page.waitForTimeout(2500);
    expect(await ids()).toEqual(['barrier-2']);
    await page.locator('#problems-only').uncheck();
    expect(await ids()).toEqual(['barrier-2', 'barrier-1']);
  });

  it('asks for a token again when the one in the link is wrong, and accepts the right one typed in', async () => {
    const fresh = await phone();
    try {
      const p = await fresh.newPage();
      await p.goto(`${gw.api}/#token=wrong-token`);
      await expect.poll(() => p.locator('#login').isVisible(), { timeout: 10_000 }).toBe(true);
      expect(await p.locator('#summary').textContent()).toBe('that token was not accepted');
      expect(await p.locator('#devices li').count()).toBe(0);
      expect(await p.locator('#problems-only').isVisible()).toBe(false);
      await p.screenshot({ path: path.join(SHOTS, 'status-page-login.png') });
      // A refused token is not kept on the phone (evaluated in the page, hence a string).
      expect(await p.evaluate("localStorage.getItem('gatehouse-token')")).toBeNull();
      await p.locator('#token').fill(TEST_TOKEN);
      await p.locator('#login button[type=submit]').click();
      await expect.poll(() => p.locator('#devices li').count(), { timeout: 10_000 }).toBe(2);
      expect(await p.locator('#login').isVisible()).toBe(false);
    } finally {
      await fresh.close();
    }
  });

  it('greys out the list and says so when the gateway itself stops answering', async () => {
    expect(await page.locator('#devices li').count()).toBe(2);
    await gw.proc.stop();
    await expect
      .poll(() => page.locator('#summary').textContent(), { timeout: 10_000 })
      .toBe('gateway not reachable — retrying');
    expect(await page.locator('body').getAttribute('class')).toContain('stale');
  });
});
