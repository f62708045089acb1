import { chromium, type Browser, type ConsoleMessage } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  barrierYaml,
  startBarrierSim,
  startGateway,
  TEST_TOKEN,
  type GatewayProc,
} from '../helpers/gateway.ts';
import { stopAll } from '../helpers/procs.ts';

// The status page under its Content-Security-Policy in a real Chromium: it works with no
// violation, the crew's token never goes into an address, and it lasts as long as the tab
// unless "stay signed in" is ticked.

describe('status page: security headers and where the token is kept', () => {
  let gw: GatewayProc;
  let browser: Browser;
  const violations: string[] = [];
  const watch = (m: ConsoleMessage) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  };

  beforeAll(async () => {
    const sim = await startBarrierSim();
    gw = await startGateway(barrierYaml(sim.modbus));
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await stopAll();
  });

  it('sends the security headers with the page', async () => {
    const res = await fetch(`${gw.api}/`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    // Plain HTTP on loopback: no upgrade of requests, no HSTS (they would break the page).
    expect(csp).not.toMatch(/upgrade-insecure-requests/);
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });

  it('works under its policy with no violation, keeping the token for the tab only', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('console', watch);
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    await page.goto(`${gw.api}/`);
    await page.locator('#token').fill(TEST_TOKEN);
    await page.locator('#login button[type=submit]').click();
    await expect.poll(() => page.locator('#login').isVisible(), { timeout: 15_000 }).toBe(false);
    await expect
      .poll(() => page.locator('[data-device="barrier-1"]').count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
    await page.waitForTimeout(2500); // a refresh or two under the policy
    // The live stream is open, and no request carried the token in its address (history, proxies' logs).
    expect(urls.some((u) => u.includes('/api/v1/events/stream'))).toBe(true);
    expect(urls.filter((u) => u.includes(TEST_TOKEN))).toEqual([]);
    expect(await page.locator('#live').getAttribute('class')).toBe('live live');
    expect(await page.evaluate("sessionStorage.getItem('gatehouse-token')")).toBe(TEST_TOKEN);
    expect(await page.evaluate("localStorage.getItem('gatehouse-token')")).toBeNull();
    // Another tab of the same browser does not inherit it.
    const other = await context.newPage();
    other.on('console', watch);
    await other.goto(`${gw.api}/`);
    await expect.poll(() => other.locator('#login').isVisible(), { timeout: 10_000 }).toBe(true);
    await context.close();
    expect(violations).toEqual([]);
  });

  it('keeps the token on the phone when "stay signed in" is ticked', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('console', watch);
    await page.goto(`${gw.api}/`);
    await page.locator('#token').fill(TEST_TOKEN);
    await page.locator('#stay').check();
    await page.locator('#login button[type=submit]').click();
    await expect.poll(() => page.locator('#login').isVisible(), { timeout: 15_000 }).toBe(false);
    expect(await page.evaluate("localStorage.getItem('gatehouse-token')")).toBe(TEST_TOKEN);
    const other = await context.newPage();
    await other.goto(`${gw.api}/`);
    await expect.poll(() => other.locator('#login').isVisible(), { timeout: 10_000 }).toBe(false);
    await context.close();
    expect(violations).toEqual([]);
  });
});
