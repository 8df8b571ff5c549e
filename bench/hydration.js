// Time from navigation start to hydrated /login (<html data-hydrated="true">)
// in headless Chromium. Usage: node bench/hydration.js http://127.0.0.1:PORT [runs]
// Prints one line: "BENCH hydrate_median_ms=… hydrate_min_ms=… hydrate_max_ms=… dcl_median_ms=… runs=N"
const pwPath = '/work/main/end2end/node_modules/playwright-core';
const { chromium } = require(pwPath);

const base = process.argv[2];
const runs = parseInt(process.argv[3] || '5', 10);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const hyd = [], dcl = [];
  try {
    for (let i = 0; i < runs; i++) {
      // A fresh context per run: cold HTTP cache, as a first visit.
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.addInitScript(() => {
        // Runs before <html> exists, so watch the whole document.
        const mark = () => {
          const root = document.documentElement;
          if (root && root.getAttribute('data-hydrated') === 'true' && window.__hydratedAt === undefined) {
            window.__hydratedAt = performance.now();
          }
        };
        new MutationObserver(mark).observe(document, {
          attributes: true, attributeFilter: ['data-hydrated'], subtree: true,
        });
      });
      await page.goto(base + '/login', { waitUntil: 'load' });
      await page.waitForFunction(() => window.__hydratedAt !== undefined, null, { timeout: 20000 });
      const t = await page.evaluate(() => ({
        hydrated: window.__hydratedAt,
        dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
      }));
      hyd.push(t.hydrated);
      dcl.push(t.dcl);
      await context.close();
    }
  } finally {
    await browser.close();
  }
  console.log(`BENCH hydrate_median_ms=${median(hyd).toFixed(1)} hydrate_min_ms=${Math.min(...hyd).toFixed(1)} ` +
    `hydrate_max_ms=${Math.max(...hyd).toFixed(1)} dcl_median_ms=${median(dcl).toFixed(1)} runs=${runs}`);
})().catch((e) => { console.error(e); process.exit(1); });
