// What each page costs a first-time visitor, read from Chromium's own network log.
//
//   node bench/pages.js http://127.0.0.1:PORT [runs]
//
// For every entry page (signed out) and every settings page (signed in, through the
// API): the client code (JS + WASM) that crossed the wire before the page was
// interactive (<html data-hydrated="true">), as Chromium's DevTools protocol counts it
// (Network.loadingFinished: encoded bytes, headers included), its encoding, and the time
// from navigation to hydrated (median of `runs` cold loads, each in a fresh context).
// Then the entry pages on a phone profile (Lighthouse's mobile throttling applied for
// real: 150 ms round trips, 1.6 Mbit/s down, 750 kbit/s up, CPU 4x slower): first
// paint, largest paint, and hydrated.
//
// Prints a table for people and `BENCH page=... key=value` lines for scripts.
const { chromium } = require(require('path').join(__dirname, '../end2end/node_modules/playwright-core'));

const base = process.argv[2];
const runs = parseInt(process.argv[3] || '3', 10);
const ENTRY = ['/', '/login', '/signup'];
const SETTINGS = ['/profile', '/profile/security', '/profile/sessions', '/profile/data', '/profile/delete'];
const PHONE = { latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;

/** Registers a user and returns an access token (the same calls any client makes). */
async function signIn() {
  const username = `pages_${Date.now().toString(36)}`;
  const password = 'violet-Harbor-7-quantum-Sprocket';
  const registered = await fetch(`${base}/api/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, email: `${username}@example.com`, password }),
  });
  if (!registered.ok) throw new Error(`register: ${registered.status} ${await registered.text()}`);
  const login = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }),
  });
  if (!login.ok) throw new Error(`login: ${login.status} ${await login.text()}`);
  return (await login.json()).access_token;
}

/** One cold load of `path`: client bytes before hydration, timings. */
async function load(browser, path, { token, phone } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (token) {
    // Where the app keeps it (gloo-storage writes JSON).
    await page.addInitScript((t) => localStorage.setItem('keyhold.token', JSON.stringify(t)), token);
  }
  await page.addInitScript(() => {
    window.__paints = {};
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.entryType === 'largest-contentful-paint') window.__paints.lcp = entry.startTime;
        else if (entry.name === 'first-contentful-paint') window.__paints.fcp = entry.startTime;
      }
    }).observe({ entryTypes: ['paint', 'largest-contentful-paint'] });
    new MutationObserver(() => {
      if (document.documentElement?.dataset.hydrated === 'true' && window.__hydratedAt === undefined) {
        window.__hydratedAt = performance.now();
      }
    }).observe(document, { attributes: true, attributeFilter: ['data-hydrated'], subtree: true });
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  if (phone) {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, ...PHONE });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  }
  const requests = new Map();
  cdp.on('Network.responseReceived', ({ requestId, response }) => {
    requests.set(requestId, {
      url: response.url,
      encoding: (response.headers['content-encoding'] || response.headers['Content-Encoding'] || 'identity'),
    });
  });
  const finished = [];
  cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength, timestamp }) => {
    const r = requests.get(requestId);
    if (r) finished.push({ ...r, bytes: encodedDataLength, at: timestamp });
  });
  await page.goto(base + path, { waitUntil: 'load', timeout: 60000 });
  await page.waitForFunction(() => window.__hydratedAt !== undefined, null, { timeout: 60000 });
  const timing = await page.evaluate(() => ({
    hydrated: window.__hydratedAt,
    dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
    fcp: window.__paints.fcp,
    lcp: window.__paints.lcp,
    url: location.pathname,
  }));
  // Anything still arriving right after hydration would have been needed for it.
  await page.waitForTimeout(200);
  const code = finished.filter((r) => /\.(js|wasm)(\?|$)/.test(new URL(r.url).pathname));
  const bytes = code.reduce((sum, r) => sum + r.bytes, 0);
  const files = code.map((r) => `${new URL(r.url).pathname.split('/').pop()} ${kb(r.bytes)} ${r.encoding}`);
  await context.close();
  if (timing.url !== path) throw new Error(`${path} ended on ${timing.url}`);
  return { bytes, files, ...timing };
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const token = await signIn();
    console.log(`Client code (JS + WASM) fetched before each page is interactive, from Chromium's network log;`);
    console.log(`navigation to hydrated, median of ${runs} cold loads on loopback (${base}):`);
    console.log(`  ${'page'.padEnd(20)}${'code bytes'.padStart(12)}${'hydrated'.padStart(11)}  files`);
    for (const [path, signedIn] of [...ENTRY.map((p) => [p, false]), ...SETTINGS.map((p) => [p, true])]) {
      const samples = [];
      for (let i = 0; i < runs; i++) samples.push(await load(browser, path, { token: signedIn ? token : undefined }));
      const hydrated = median(samples.map((s) => s.hydrated));
      const { bytes, files } = samples[0];
      console.log(`  ${path.padEnd(20)}${kb(bytes).padStart(12)}${`${hydrated.toFixed(0)} ms`.padStart(11)}  ${files.join(', ')}`);
      console.log(`BENCH page=${path} code_bytes=${bytes} hydrated_ms=${hydrated.toFixed(1)} signed_in=${signedIn}`);
      if (path === '/login') {
        // The line bench/report.py reads for its hydration sentence.
        const times = samples.map((s) => s.hydrated);
        console.log(`BENCH hydrate_median_ms=${hydrated.toFixed(1)} hydrate_min_ms=${Math.min(...times).toFixed(1)} ` +
          `hydrate_max_ms=${Math.max(...times).toFixed(1)} dcl_median_ms=${median(samples.map((s) => s.dcl)).toFixed(1)} runs=${runs}`);
      }
    }
    console.log(`Entry pages on a phone (150 ms RTT, 1.6 Mbit/s down, CPU 4x slower), median of ${runs}:`);
    console.log(`  ${'page'.padEnd(20)}${'first paint'.padStart(12)}${'largest'.padStart(10)}${'gap'.padStart(8)}${'hydrated'.padStart(11)}`);
    for (const path of ENTRY) {
      const samples = [];
      for (let i = 0; i < runs; i++) samples.push(await load(browser, path, { phone: true }));
      const [fcp, lcp, hyd] = ['fcp', 'lcp', 'hydrated'].map((k) => median(samples.map((s) => s[k])));
      console.log(`  ${path.padEnd(20)}${`${fcp.toFixed(0)} ms`.padStart(12)}${`${lcp.toFixed(0)} ms`.padStart(10)}${`${(lcp - fcp).toFixed(0)} ms`.padStart(8)}${`${hyd.toFixed(0)} ms`.padStart(11)}`);
      console.log(`BENCH phone_page=${path} fcp_ms=${fcp.toFixed(1)} lcp_ms=${lcp.toFixed(1)} hydrated_ms=${hyd.toFixed(1)}`);
    }
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
