// bench/page-load: the "HTTP page load" row of bench/proxy.mjs, in a real browser. Headless Chromium
// (playwright-core, /usr/bin/chromium) loads the same Vite page through every path, each load in a fresh
// browser context (empty cache, no kept-alive connections: a first visit), paths interleaved in a rotating
// order per round so machine load hits all alike. The time is the page's own navigation timing
// (loadEventEnd: index + every module fetched and run), so Playwright's IPC is not in it. Every path is
// warmed first (Vite's transform cache, each proxy's JIT) and every load is checked to have run all modules.
// Reported: median and interquartile range per path, and the median of the per-round ratios to direct with
// a distribution-free 95% confidence interval (order statistics of the paired ratios). Per request (resource
// timing, responseStart - requestStart: the wait for the first byte, i.e. the server's time plus a proxy's):
// the median, p95 and slowest wait of each load (medians over the loads; a slowest wait near 40 ms on every
// load would be a Nagle/delayed-ACK stall), and the latency a proxy adds per request (the per-round
// difference of the loads' median waits to direct's, median and 95% CI). Over HTTP/2 the browser sends
// every module request at once, so there a wait also holds the time queued behind the others at the target:
// compare HTTP/2 by its load time and CPU, not its waits. A proxy's CPU per load is measured around each load
// in its own process (process.cpuUsage, user + system; it includes the page's Vite HMR WebSocket). On a busy
// 2-core machine the proxy's CPU competes with Chromium's and Vite's, so the CPU column moves the load time;
// a process idle between its loads also runs each load with cold caches (several times the CPU per request
// of back-to-back requests), which is what the page load pays and the figures show.
// Noise: `bench/proxy.mjs --page-only --aa` also loads the direct URL as "direct again"; its ratio to
// direct is the noise floor. Chromium's WebUI omnibox popup is turned off (NOISE_FEATURES, merged into
// playwright's --disable-features by launchChromium; checked gone at the first load): every new window,
// i.e. every load's fresh context, loaded chrome://omnibox-popup.top-chrome/ in a renderer of its own while
// the timed navigation ran. Chromium's CPU during a navigation (/proc, 8 loads of a static 60-module page):
// that renderer 100-380 ms, the browser process 130-280, the page's renderer 90-120 (without it: browser
// 110-170, page 90-120). Static page, 12 interleaved loads each: median 252 -> 174 ms, p25-p75 217-285 ->
// 168-181 ms. This bench, 25 rounds, A/A (direct again / direct, 95% CI), ours, bare, nginx (x direct):
//   before: 1.08x (0.89-1.22), 1.46x, 1.18x, 1.06x   load avg 2.8-7.9
//           1.03x (0.91-1.27), 1.22x, 1.26x, 1.22x   load avg 3.4-7.2
//           0.83x (0.72-1.12), 1.39x, 1.40x, 0.94x   load avg 11.9-18.1
//   after:  1.13x (1.03-1.17), 1.19x, 1.14x, 1.06x   load avg 1.3-5.8
//           0.96x (0.88-1.00), 1.17x, 1.13x, 1.04x   load avg 5.0-4.4
//           1.01x (0.99-1.14), 1.11x, 1.12x, 1.07x   load avg 16.8-7.3
// The A/A interval is about 2.5x narrower. The spread of the per-round A/A ratio (sd of its log): 0.35,
// 0.29 before, 0.19, 0.13 after at a like load; at load average 12-18 from other work 0.39 before, 0.34
// after: what is left is the machine's other load, which interleaving spreads over all paths but cannot
// remove. Two after-runs' intervals just miss 1.0 on opposite sides, so the interval is somewhat optimistic
// between runs: read under ~0.1x as noise. Checked and not kept: no renderer process starts during the
// navigation (the page's renderer exists from newPage; the same renderer pids before and after goto), so no
// same-site pre-navigation; after ctx.close() Chromium is quiet within 50 ms, and a 1 s pause before each
// navigation did not help (184 vs 174 ms); dropping the page's response/requestfailed listeners did not
// lower this process's CPU (57 vs 56 ms per load); playwright already passes
// --disable-renderer-backgrounding, --disable-background-timer-throttling. Vite's HMR socket opens around
// loadEventEnd (before it in about half the loads, same for direct and ours; nginx's fails and the client
// then connects to Vite directly; bare's stays pending): one handshake, not retry traffic, and part of what
// a Vite page does through a proxy.
import { launchChromium } from './chromium.mjs';

// Chromium's WebUI omnibox popup: every new window (here: every context's page) loads
// chrome://omnibox-popup.top-chrome/ in a renderer of its own, concurrently with the timed navigation.
const NOISE_FEATURES = ['WebUIOmniboxPopup', 'WebUIOmniboxFullPopup', 'WebUIOmniboxAimPopup'];

const quantile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * p;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo);
};

/** 95% CI of the median from order statistics (normal approximation of the binomial), as [lo, hi]. */
function medianCi(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const k = Math.max(0, Math.floor(n / 2 - 0.98 * Math.sqrt(n)));
  return [s[k], s[Math.min(n - 1, n - 1 - k)]];
}

/**
 * Load `paths` ({ name: url }, one named "direct") `rounds` times each in Chromium. `modules`: the app's
 * module count (m0.js ...): a complete load fetched main.js and all of them and shows "module <modules-1>".
 * `cpu`: per path name, a function resolving the CPU µs its proxy process has used so far (each load's
 * share is reported: a load-insensitive measure of the proxy's own cost). Resolves { rows, rounds, runs }
 * (runs: per path name, every load's ms in round order).
 */
export async function chromiumPageLoads(
  paths,
  { rounds, warmup = 2, modules, env, cpu = {}, onRound },
) {
  const browser = await launchChromium(env, { disableFeatures: NOISE_FEATURES });
  try {
    const cdp = await browser.newBrowserCDPSession();
    let checked = false;
    const protocols = {};
    const load = async (url, name) => {
      // A fresh context per load: its own HTTP cache and socket pool (Chromium's network context).
      const ctx = await browser.newContext({ ignoreHTTPSErrors: true, serviceWorkers: 'block' });
      try {
        const page = await ctx.newPage();
        if (!checked) {
          // Only the page: a browser_ui target (the omnibox popup, or a WebUI that replaced it in a newer
          // Chromium) would load concurrently with every timed navigation again.
          const { targetInfos } = await cdp.send('Target.getTargets');
          const ui = targetInfos.filter((t) => t.type !== 'page').map((t) => `${t.type} ${t.url}`);
          if (ui.length)
            process.stderr.write(`page load: Chromium runs more than the page: ${ui.join(', ')}\n`);
          checked = true;
        }
        const bad = [];
        page.on('requestfailed', (q) => bad.push(`${q.url()} ${q.failure()?.errorText}`));
        page.on(
          'response',
          (r) =>
            r.status() >= 400 &&
            bad.push(`${r.url()} ${r.status()} ${r.headers()['x-wss-studio-error'] ?? ''}`),
        );
        page.on('pageerror', (e) => bad.push(String(e)));
        await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
        const r = await page.evaluate(() => {
          const nav = performance.getEntriesByType('navigation')[0];
          const res = performance.getEntriesByType('resource');
          return {
            ms: nav.loadEventEnd - nav.startTime,
            resources: res.length,
            // Each request's wait: sent until its first byte came back (the server's time, plus a proxy's).
            waits: [nav, ...res].map((e) => e.responseStart - e.requestStart),
            protocol: nav.nextHopProtocol,
            text: globalThis.document.querySelector('#app')?.textContent ?? '',
          };
        });
        if (r.resources < modules + 1 || !r.text.includes(`module ${modules - 1} `)) {
          throw new Error(
            `page load of ${url} (${name}) incomplete: ${r.resources} resources for ${modules + 1} modules, text ${JSON.stringify(r.text.slice(-80))}; ${bad.join('; ') || 'no failed request'}`,
          );
        }
        protocols[url] = r.protocol;
        return r;
      } finally {
        await ctx.close();
      }
    };
    const names = Object.keys(paths);
    for (let i = 0; i < warmup; i++) for (const k of names) await load(paths[k], k);
    const runs = Object.fromEntries(names.map((k) => [k, []]));
    const waits = Object.fromEntries(names.map((k) => [k, { p50: [], p95: [], max: [] }]));
    const cpuRuns = Object.fromEntries(names.map((k) => [k, []]));
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < names.length; i++) {
        const k = names[(i + round) % names.length];
        const c0 = await cpu[k]?.();
        const r = await load(paths[k], k);
        if (cpu[k]) cpuRuns[k].push(((await cpu[k]()) - c0) / 1000);
        runs[k].push(r.ms);
        for (const p of ['p50', 'p95'])
          waits[k][p].push(quantile(r.waits, p === 'p50' ? 0.5 : 0.95));
        waits[k].max.push(Math.max(...r.waits));
        waits[k].requests = r.waits.length;
      }
      onRound?.();
    }
    const rows = names.map((k) => {
      const ratios = runs[k].map((ms, i) => ms / runs.direct[i]);
      // Added latency per request: the per-round difference of the loads' median waits to direct's.
      const added = waits[k].p50.map((w, i) => w - waits.direct.p50[i]);
      return {
        name: k,
        protocol: protocols[paths[k]],
        p25: quantile(runs[k], 0.25),
        median: quantile(runs[k], 0.5),
        p75: quantile(runs[k], 0.75),
        ratio: quantile(ratios, 0.5),
        ci: medianCi(ratios),
        waitP50: quantile(waits[k].p50, 0.5),
        waitP95: quantile(waits[k].p95, 0.5),
        waitMax: quantile(waits[k].max, 0.5),
        addedMs: quantile(added, 0.5),
        addedCi: medianCi(added),
        requests: waits[k].requests,
        ...(cpuRuns[k].length ? { cpuMs: quantile(cpuRuns[k], 0.5) } : {}),
      };
    });
    return { rows, rounds, runs };
  } finally {
    await browser.close();
  }
}
