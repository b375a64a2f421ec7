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
