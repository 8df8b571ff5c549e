// What each page costs a first-time visitor, read from Chromium's own network log.
//
//   node bench/pages.js http://127.0.0.1:PORT [runs]
//
// For every entry page (signed out) and every settings page (signed in, through the
// API): the client code (JS + WASM) that crossed the wire before the page was
// interactive (<html data-hydrated="true">), as Chromium's DevTools protocol counts it
// (Network.loadingFinished: encoded bytes, headers included), its encoding, and the time
// from navigation to hydrated (median of `runs` cold loads, each in a fresh context).
//
// The entry pages' forms (log-in, sign-up, forgotten password) work before the WASM: the
// server renders them enabled and answers their native post. For those, also what comes
// before the form can be submitted, from other cold loads with the page's JS and WASM
// refused (page.route aborts them: the page as it is until its code arrives): the bytes
// of the document, its stylesheets and fonts (the resource type of
// Network.responseReceived; target: at most 30 KB), and the time from navigation until
// the form is usable: a submit button of a form in <main> is in the DOM, enabled, and
// laid out visible, and every <link rel=stylesheet> has loaded (its `sheet` is set).
// A probe added before the page's own scripts checks that on each DOM change and each
// load event, and notes the moment.
//
// Then the entry pages on a phone profile (Lighthouse's mobile throttling applied for
// real: 150 ms round trips, 1.6 Mbit/s down, 750 kbit/s up, CPU 4x slower): first
// paint, largest paint, hydrated and (code refused, as above) form usable. A real phone
// fetches the preloaded code meanwhile, on the same link: form usable is a lower bound.
//
// Prints a table for people and `BENCH page=... key=value` lines for scripts.
const { chromium } = require(require('path').join(__dirname, '../end2end/node_modules/playwright-core'));

const base = process.argv[2];
const runs = parseInt(process.argv[3] || '3', 10);
const ENTRY = ['/', '/login', '/signup', '/forgot-password'];
// The entry pages whose form works before the WASM (the server answers its post).
const FORMS = ['/login', '/signup', '/forgot-password'];
const SETTINGS = ['/profile', '/profile/security', '/profile/sessions', '/profile/data', '/profile/delete'];
const PHONE = { latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
const ms = (n) => `${n.toFixed(0)} ms`;
const isCode = (url) => /\.(js|wasm)$/.test(new URL(url).pathname);
// What a form waits for before the code: the page itself and what it renders with.
const BEFORE_FORM = new Set(['Document', 'Stylesheet', 'Font']);

/**
 * Registers a user and logs in (the same calls any client makes): the access token for the
 * app's storage, and the cookies the log-in set (the browser session the server renders
 * the settings pages for, and the refresh cookie), as a browser would hold them.
 */
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
  const host = new URL(base).hostname;
  const cookies = login.headers.getSetCookie().map((line) => {
    const [name, value] = line.split(';')[0].split(/=(.*)/s);
    const secure = /;\s*secure/i.test(line);
    return { name, value, domain: host, path: '/', secure, httpOnly: true, sameSite: 'Lax' };
  });
  return { token: (await login.json()).access_token, cookies };
}

/**
 * Runs in the page before its own scripts: notes the paints, the moment it is hydrated
 * and, with `form`, the moment its form is usable (see the header).
 */
function probes({ form }) {
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
  if (!form) return;
  // Stylesheets first: no layout is forced before they are in.
  const usable = () => [...document.querySelectorAll('link[rel~="stylesheet"]')].every((link) => link.sheet) &&
    [...document.querySelectorAll('main form button[type="submit"]')].some((button) => {
      const box = button.getBoundingClientRect();
      return !button.matches(':disabled') && box.width > 0 && box.height > 0 &&
        getComputedStyle(button).visibility === 'visible';
    });
  const check = () => {
    if (window.__formUsableAt === undefined && usable()) {
      window.__formUsableAt = performance.now();
      watcher.disconnect();
    }
  };
  const watcher = new MutationObserver(check);
  watcher.observe(document, { childList: true, subtree: true });
  document.addEventListener('load', check, true); // a stylesheet's (load does not bubble)
}

/**
 * One cold load of `path`: the client code before hydration and the timings; or, with
 * `withoutCode` (its JS and WASM refused), the bytes before its form is usable and when.
 */
async function load(browser, path, { session, phone, withoutCode } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (session) {
    await context.addCookies(session.cookies);
    // Where the app keeps the token (gloo-storage writes JSON).
    await page.addInitScript((t) => localStorage.setItem('keyhold.token', JSON.stringify(t)), session.token);
  }
  await page.addInitScript(probes, { form: Boolean(withoutCode) });
  if (withoutCode) await page.route(isCode, (route) => route.abort());
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  if (phone) {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, ...PHONE });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  }
  const requests = new Map();
  cdp.on('Network.responseReceived', ({ requestId, type, response }) => {
    requests.set(requestId, {
      url: response.url,
      type,
      encoding: (response.headers['content-encoding'] || response.headers['Content-Encoding'] || 'identity'),
    });
  });
  const finished = [];
  cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength, timestamp }) => {
    const r = requests.get(requestId);
    if (r) finished.push({ ...r, bytes: encodedDataLength, at: timestamp });
  });
  await page.goto(base + path, { waitUntil: 'load', timeout: 60000 });
  const [mark, awaited] = withoutCode ? ['__formUsableAt', 'usable form'] : ['__hydratedAt', 'hydration'];
  await page.waitForFunction((m) => window[m] !== undefined, mark, { timeout: 60000 })
    .catch((e) => { throw new Error(`${path}: no ${awaited} (${e.message.split('\n')[0]})`); });
  const timing = await page.evaluate(() => ({
    hydrated: window.__hydratedAt,
    usable: window.__formUsableAt,
    dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
    fcp: window.__paints.fcp,
    lcp: window.__paints.lcp,
    url: location.pathname,
  }));
  // Anything still arriving right after would have been needed for it (without the code
  // nothing of those types comes later).
  await page.waitForTimeout(200);
  const counted = finished.filter(withoutCode ? (r) => BEFORE_FORM.has(r.type) : (r) => isCode(r.url));
  const bytes = counted.reduce((sum, r) => sum + r.bytes, 0);
  const files = counted.map((r) => `${new URL(r.url).pathname.split('/').pop() || '/'} ${kb(r.bytes)} ${r.encoding}`);
  await context.close();
  if (timing.url !== path) throw new Error(`${path} ended on ${timing.url}`);
  return { bytes, files, ...timing };
}

/** `runs` cold loads of `path` (fresh contexts, one after the other). */
async function sample(browser, path, options) {
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await load(browser, path, options));
  return samples;
}

/** A form page's figures before its code (bytes, files, median ms to usable); else undefined. */
async function beforeCode(browser, path, options = {}) {
  if (!FORMS.includes(path)) return undefined;
  const samples = await sample(browser, path, { ...options, withoutCode: true });
  return { bytes: samples[0].bytes, files: samples[0].files, usable: median(samples.map((s) => s.usable)) };
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const session = await signIn();
    console.log(`Client code (JS + WASM) fetched before each page is interactive, from Chromium's network log;`);
    console.log(`navigation to hydrated, median of ${runs} cold loads on loopback (${base}). For the pages`);
    console.log(`whose form works before the code, with their JS and WASM refused: the document, stylesheets`);
    console.log(`and fonts fetched before the form can be submitted (target: at most 30 KB), and navigation`);
    console.log(`to form usable (submit button shown and enabled, stylesheets loaded):`);
    console.log(`  ${'page'.padEnd(20)}${'code bytes'.padStart(12)}${'hydrated'.padStart(11)}` +
      `${'form bytes'.padStart(12)}${'usable'.padStart(9)}  files`);
    for (const [path, signedIn] of [...ENTRY.map((p) => [p, false]), ...SETTINGS.map((p) => [p, true])]) {
      const samples = await sample(browser, path, { session: signedIn ? session : undefined });
      const hydrated = median(samples.map((s) => s.hydrated));
      const { bytes, files } = samples[0];
      const form = await beforeCode(browser, path);
      console.log(`  ${path.padEnd(20)}${kb(bytes).padStart(12)}${ms(hydrated).padStart(11)}` +
        `${(form ? kb(form.bytes) : '-').padStart(12)}${(form ? ms(form.usable) : '-').padStart(9)}  ${files.join(', ')}` +
        (form ? `; before the form: ${form.files.join(', ')}` : ''));
      console.log(`BENCH page=${path} code_bytes=${bytes} hydrated_ms=${hydrated.toFixed(1)}` +
        `${form ? ` form_bytes=${form.bytes} form_usable_ms=${form.usable.toFixed(1)}` : ''} signed_in=${signedIn}`);
      if (path === '/login') {
        // The line bench/report.py reads for its hydration sentence.
        const times = samples.map((s) => s.hydrated);
        console.log(`BENCH hydrate_median_ms=${hydrated.toFixed(1)} hydrate_min_ms=${Math.min(...times).toFixed(1)} ` +
          `hydrate_max_ms=${Math.max(...times).toFixed(1)} dcl_median_ms=${median(samples.map((s) => s.dcl)).toFixed(1)} runs=${runs}`);
      }
    }
    console.log(`Entry pages on a phone (150 ms RTT, 1.6 Mbit/s down, CPU 4x slower), median of ${runs};`);
    console.log(`form usable from loads with the JS and WASM refused:`);
    console.log(`  ${'page'.padEnd(20)}${'first paint'.padStart(12)}${'largest'.padStart(10)}${'gap'.padStart(8)}` +
      `${'hydrated'.padStart(11)}${'form usable'.padStart(13)}`);
    for (const path of ENTRY) {
      const samples = await sample(browser, path, { phone: true });
      const [fcp, lcp, hyd] = ['fcp', 'lcp', 'hydrated'].map((k) => median(samples.map((s) => s[k])));
      const form = await beforeCode(browser, path, { phone: true });
      console.log(`  ${path.padEnd(20)}${ms(fcp).padStart(12)}${ms(lcp).padStart(10)}${ms(lcp - fcp).padStart(8)}` +
        `${ms(hyd).padStart(11)}${(form ? ms(form.usable) : '-').padStart(13)}`);
      console.log(`BENCH phone_page=${path} fcp_ms=${fcp.toFixed(1)} lcp_ms=${lcp.toFixed(1)} hydrated_ms=${hyd.toFixed(1)}` +
        (form ? ` form_usable_ms=${form.usable.toFixed(1)}` : ''));
    }
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
