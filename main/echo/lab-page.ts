// The lab page served by every echo server at GET /. It opens WebSockets to each running echo server under
// loopback names and under a non-loopback name, and explains what happened to each.
//
// The rule it demonstrates (Chromium, checked with Chromium 156): an https:// page may not open ws:// (mixed
// content; the WebSocket constructor throws SecurityError before any traffic) EXCEPT to hosts the browser
// treats as "potentially trustworthy": localhost, 127.0.0.0/8 and [::1] (W3C Secure Contexts §3.2 and the
// Mixed Content spec's "a priori authenticated URL"). So from https://localhost, ws://localhost and
// ws://127.0.0.1 open, while ws://app.test is blocked even when app.test resolves to 127.0.0.1. Over http://
// there is no mixed-content rule and everything may open.
//
// Self-contained: one HTML document, inline style and one inline script allowed by a per-response nonce.
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import type { ServerDefinition } from './types';

/** The server a lab page tests (`host`: its bind address). */
export type LabTarget = Pick<ServerDefinition, 'id' | 'name' | 'scheme' | 'host' | 'port' | 'path'>;

/** Loopback host names the page may use for a server bound to `bind`. */
export function loopbackNames(bind: string): string[] {
  if (bind === '0.0.0.0') return ['localhost', '127.0.0.1'];
  if (bind === '::') return ['localhost', '127.0.0.1', '[::1]'];
  if (bind === '::1') return ['localhost', '[::1]'];
  if (bind === 'localhost') return ['localhost'];
  if (/^127\./.test(bind)) return bind === '127.0.0.1' ? ['localhost', '127.0.0.1'] : [bind];
  return [];
}

/**
 * The machine's first non-internal IPv4 address, if any: a real non-loopback name for the same server.
 * WSS_STUDIO_LAB_NO_LAN=1 leaves it out: the test suite sets it so that no test opens a connection to an
 * address outside the loopback range (tests use a mapped ".test" name for the non-loopback case).
 */
export function lanAddress(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.WSS_STUDIO_LAB_NO_LAN === '1') return null;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

export interface LabPage {
  html: string;
  /** Content-Security-Policy for this response (carries the script nonce). */
  csp: string;
}

export function renderLabPage(targets: LabTarget[], lan: string | null = lanAddress()): LabPage {
  const nonce = randomBytes(16).toString('base64');
  // JSON inside <script>: escape "<" so no string can close the script element.
  const cfg = JSON.stringify({
    targets: targets.map((t) => ({ ...t, loopback: loopbackNames(t.host) })),
    lan,
  }).replace(/</g, '\\u003c');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>WSS Studio lab</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #1b1f24; }
h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
th, td { border-bottom: 1px solid #d0d7de; padding: .35rem .5rem; text-align: left; vertical-align: top; }
td.url { font-family: ui-monospace, monospace; white-space: nowrap; }
tr[data-status="echoed"] td.status { color: #1a7f37; font-weight: 600; }
tr[data-status="blocked"] td.status, tr[data-status="failed"] td.status,
tr[data-status="timeout"] td.status { color: #cf222e; font-weight: 600; }
code { background: #f6f8fa; padding: 0 .2rem; }
.note { color: #57606a; max-width: 60rem; }
</style>
</head>
<body>
<h1>WSS Studio lab</h1>
<p class="note" id="context"></p>
<p class="note">Add <code>?alt=NAME</code> to try a non-loopback name you mapped to this machine
(for example <code>?alt=app.test</code> with <code>127.0.0.1 app.test</code> in /etc/hosts).
The results also appear on the Lab screen of WSS Studio.</p>
<table>
<thead><tr><th>URL</th><th>name is</th><th>result</th><th>why</th></tr></thead>
<tbody id="rows"></tbody>
</table>
<script nonce="${nonce}">
"use strict";
(function () {
  var cfg = ${cfg};
  var secure = location.protocol === "https:";
  var params = new URLSearchParams(location.search);
  var loopRe = /^(localhost|127\\.\\d+\\.\\d+\\.\\d+|\\[::1\\])$/;
  var lab = { done: false, secure: secure, results: [] };
  window.__lab = lab;
  document.getElementById("context").textContent = secure
    ? "This page was loaded over HTTPS. Browsers block ws:// from an HTTPS page as mixed content, except to loopback hosts (localhost, 127.0.0.0/8, [::1]), which Chromium treats as potentially trustworthy."
    : "This page was loaded over plain HTTP: there is no mixed-content rule, so ws:// and wss:// may both open.";
  var others = [];
  function addOther(n) { if (n && !loopRe.test(n) && others.indexOf(n) < 0) others.push(n); }
  addOther(params.get("alt"));
  addOther(location.hostname);
  addOther(cfg.lan);
  var attempts = [];
  cfg.targets.forEach(function (t) {
    t.loopback.forEach(function (h) { attempts.push({ t: t, host: h, loopback: true }); });
    others.forEach(function (h) { attempts.push({ t: t, host: h, loopback: false }); });
  });
  var pending = attempts.length;
  function finish(r, status, why) {
    if (r.status !== "pending") return;
    r.status = status;
    r.why = why;
    r.row.setAttribute("data-status", status);
    r.row.querySelector(".status").textContent = status;
    r.row.querySelector(".why").textContent = why;
    if (--pending === 0) done();
  }
  // Results go back to the server that served this page, so the app's Lab screen shows them too.
  function done() {
    lab.done = true;
    try {
      fetch("/lab-results", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ secure: secure, results: lab.results }),
      }).then(function (r) { lab.posted = r.status; }, function () { lab.posted = 0; });
    } catch (e) { lab.posted = 0; }
  }
  function explainOpen(a) {
    if (a.t.scheme === "wss") return "wss:// is TLS: allowed from any page, as long as the browser trusts the certificate and it covers \\"" + a.host + "\\".";
    if (!secure) return "ws:// from an http:// page: no mixed-content rule applies.";
    return "Allowed although the page is HTTPS: " + a.host + " is loopback, which Chromium treats as potentially trustworthy. This breaks once the page or the server moves off loopback: use wss:// there.";
  }
  function explainFail(a) {
    if (a.t.scheme === "wss") return "The connection or the TLS handshake failed: the browser may not trust the CA, the certificate may not cover \\"" + a.host + "\\", or the name does not reach this server. The Doctor screen in WSS Studio (the Lab screen links there) or \\"wss-studio doctor wss://" + a.host + ":" + a.t.port + a.t.path + "\\" tells which.";
    return "The connection failed: \\"" + a.host + "\\" may not resolve to this machine, or the server is not bound to that address (it listens on " + a.t.host + "). The Doctor screen in WSS Studio (the Lab screen links there) tells which.";
  }
  if (attempts.length === 0) done();
  attempts.forEach(function (a, i) {
    var url = a.t.scheme + "://" + a.host + ":" + a.t.port + a.t.path;
    var row = document.createElement("tr");
    row.setAttribute("data-url", url);
    row.setAttribute("data-status", "pending");
    ["url", "kind", "status", "why"].forEach(function (c) {
      var td = document.createElement("td");
      td.className = c;
      row.appendChild(td);
    });
    row.querySelector(".url").textContent = url;
    row.querySelector(".kind").textContent = a.loopback ? "loopback" : "not loopback";
    row.querySelector(".status").textContent = "pending";
    document.getElementById("rows").appendChild(row);
    var r = { url: url, scheme: a.t.scheme, host: a.host, loopback: a.loopback, status: "pending", why: "", row: row };
    lab.results.push(r);
    Object.defineProperty(r, "row", { enumerable: false });
    var ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      var name = e && e.name ? e.name : String(e);
      finish(r, "blocked", name + ": the browser refused to even open this socket. The page is HTTPS and ws:// to a host that is not loopback is mixed content. Use wss:// with a certificate for \\"" + a.host + "\\", or load the page over http://.");
      return;
    }
    var token = "lab-" + i + "-" + Math.random().toString(36).slice(2);
    var opened = false;
    var timer = setTimeout(function () {
      finish(r, "timeout", opened ? "Opened, but no echo came back within 5 s (is the server in silent mode?)." : "No answer within 5 s.");
      try { ws.close(); } catch (e) {}
    }, 5000);
    ws.onopen = function () { opened = true; ws.send(token); };
    ws.onmessage = function (ev) {
      if (ev.data !== token) return;
      clearTimeout(timer);
      finish(r, "echoed", explainOpen(a));
      ws.close(1000, "lab done");
    };
    ws.onclose = function () {
      clearTimeout(timer);
      finish(r, "failed", explainFail(a));
    };
  });
})();
</script>
</body>
</html>
`;
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    "style-src 'unsafe-inline'",
    // 'self': the results are posted back to this server (POST /lab-results).
    "connect-src 'self' ws: wss:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, csp };
}
