// Over 400 lines: the doctor's steps run in order and each depends on the previous ones' results.
// The connection doctor: runs the steps in order and reports each as it finishes.
//   url -> mixed-content (before any network) -> dns -> tcp -> tls (which scheme the port speaks)
//   -> certificate (wss only) -> upgrade
// A failed step stops the steps that depend on it; they are reported as "skip" with the reason, so the
// list always has the same seven entries in the same order.
import { X509Certificate } from 'node:crypto';
import { inputError } from '../../shared/errors';
import { andList, clientSummary, judgeClients, pickAnchor } from './clients';
import { STEP_TITLES, type StepId } from './codes';
import { checkMixedContent, parseOrigin, type PageOrigin } from './mixed-content';
import { Aborted, connectAny, probePlain, resolveHost } from './net';
import { cnOf, judgeCertificate, loadSystemAnchors, probeTls, type TlsHandshake } from './tls';
import { runtimeLimits } from './tls-options';
import { judgeUpgrade, newKey, sendUpgrade } from './upgrade';
import { checkUrl } from './url';
import { frontWithWss } from '../proxy/offer';
import type { DiagnoseOptions, DoctorReport, DoctorStep, DoctorTarget } from './types';

const DEFAULT_TIMEOUT_MS = 5000;
const ORDER: StepId[] = ['url', 'mixed-content', 'dns', 'tcp', 'tls', 'certificate', 'upgrade'];

type StepBody = Omit<DoctorStep, 'id' | 'title' | 'durationMs'>;

/**
 * Diagnose a ws:// or wss:// URL. Resolves with the report (ok: false when the connection would fail);
 * rejects only for bad options (input WssError BAD_ORIGIN, BAD_CA, BAD_TIMEOUT). When the signal fires it
 * resolves at once with the steps finished so far and `cancelled: true`.
 */
export async function diagnose(url: string, opts: DiagnoseOptions = {}): Promise<DoctorReport> {
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 1 || timeoutMs > 120_000) {
    throw inputError('BAD_TIMEOUT', 'run doctor', `timeout ${timeoutMs} ms is out of range`, {
      field: 'timeoutMs',
      value: timeoutMs,
      hint: 'pass a timeout from 1 to 120000 ms',
    });
  }
  const page: PageOrigin | null = opts.origin ? parseOrigin(opts.origin) : null;
  const ourCa = opts.caPem ? parseCa(opts.caPem) : null;
  const protocols = opts.protocols ?? [];
  const signal = opts.signal;

  const report: DoctorReport = {
    url,
    ...(page ? { origin: page.origin } : {}),
    target: null,
    ok: false,
    codes: [],
    steps: [],
    speaks: null,
    addresses: [],
    tls: null,
    upgrade: null,
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
  };

  let stepStart = Date.now();
  const emit = (id: StepId, body: StepBody) => {
    const step: DoctorStep = {
      id,
      title: STEP_TITLES[id],
      ...body,
      durationMs: Date.now() - stepStart,
    };
    report.steps.push(step);
    if (step.code) report.codes.push(step.code);
    for (const c of step.also ?? []) report.codes.push(c);
    stepStart = Date.now();
    opts.onStep?.(step);
  };
  const skipRest = (reason: string) => {
    for (const id of ORDER.slice(report.steps.length))
      emit(id, { status: 'skip', explanation: reason });
  };
  const finish = () => {
    report.ok = report.steps.every((s) => s.status !== 'fail');
    report.durationMs = Date.now() - started;
    return report;
  };
  const checkAbort = () => {
    if (signal?.aborted) throw new Aborted();
  };

  try {
    checkAbort();
    // 1. URL
    const u = checkUrl(url);
    if (!u.ok) {
      emit('url', { status: 'fail', code: u.code, explanation: u.explanation, fix: u.fix });
      skipRest('Not run: the URL must be fixed first.');
      return finish();
    }
    const t: DoctorTarget = u.target;
    report.target = t;
    const where = `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
    emit(
      'url',
      u.warning
        ? { status: 'warn', ...u.warning, detail: [`checking ${t.url}`] }
        : {
            status: 'pass',
            explanation: `${t.url}: scheme ${t.scheme}, host ${t.host}, port ${t.port}, path ${t.path}.`,
          },
    );

    // 6. (checked first) Mixed content: decided by the browser from names alone, before any network.
    if (!page) {
      emit('mixed-content', {
        status: 'skip',
        explanation: opts.forApp
          ? 'No page origin given: the mixed content rule was not checked.'
          : 'No page origin given (--origin): the mixed content rule was not checked.',
      });
    } else {
      const m = checkMixedContent(page, t);
      if (m.status === 'pass')
        emit('mixed-content', { status: 'pass', explanation: m.explanation });
      else
        emit('mixed-content', {
          status: m.status,
          code: m.code,
          explanation: m.explanation,
          fix: m.fix,
          // Offer the one-click fix: a trusted wss:// front for this ws:// server (main/proxy).
          ...(m.code === 'MIXED_CONTENT_BLOCKED' ? { action: frontWithWss(t) } : {}),
        });
      if (m.status === 'fail') {
        skipRest('Not run: the browser blocks this URL from that page before any network traffic.');
        return finish();
      }
    }

    // 2a. DNS
    checkAbort();
    const r = await resolveHost(t.host, timeoutMs, signal);
    if (!r.ok) {
      const hosts = /\.(test|localhost|internal|local)$/i.test(t.host);
      emit('dns', {
        status: 'fail',
        code: 'DNS_FAILED',
        explanation: r.timedOut
          ? `Looking up ${JSON.stringify(t.host)} got no answer within ${timeoutMs} ms.`
          : `${JSON.stringify(t.host)} does not resolve on this machine (${r.errno}).`,
        fix: hosts
          ? `Map the name in /etc/hosts, e.g. "127.0.0.1 ${t.host}" (on Windows: C:\\Windows\\System32\\drivers\\etc\\hosts).`
          : 'Check the spelling, or map the name in /etc/hosts, e.g. "127.0.0.1 ' + t.host + '".',
      });
      skipRest('Not run: the host name does not resolve.');
      return finish();
    }
    report.addresses = r.addresses;
    emit('dns', {
      status: 'pass',
      explanation: r.literal
        ? `${t.host} is an IP address: nothing to resolve.`
        : `${t.host} resolves to ${r.addresses.join(', ')}.`,
    });

    // 2b. TCP
    checkAbort();
    const c = await connectAny(r.addresses, t.port, timeoutMs, signal);
    if (!c.ok) {
      const tried = c.failed.map((f) => `${f.address}: ${f.errno}`);
      const text: Record<string, [string, string]> = {
        CONNECTION_REFUSED: [
          `Nothing is listening on ${where} (connection refused at ${c.failed.map((f) => f.address).join(' and ')}).`,
          `Start the server, or fix the port in the URL; check which address it binds (127.0.0.1, ::1 or 0.0.0.0).`,
        ],
        TIMEOUT: [
          `Connecting to ${where} got no answer within ${timeoutMs} ms: packets are dropped (firewall, wrong address, or a host that is down).`,
          'Check the address, the port and any firewall in between.',
        ],
        HOST_UNREACHABLE: [
          `There is no route to ${where} (${c.errno}).`,
          'Check the address and that this machine is on the same network as the server.',
        ],
        CONNECT_FAILED: [
          `Connecting to ${where} failed (${c.errno}).`,
          'Check the host, the port and any firewall in between.',
        ],
      };
      const [explanation, fix] = text[c.code] ?? text.CONNECT_FAILED!;
      emit('tcp', { status: 'fail', code: c.code, explanation, fix, detail: tried });
      skipRest('Not run: no TCP connection.');
      return finish();
    }
    const address = c.address;
    emit('tcp', {
      status: 'pass',
      explanation: `Connected to ${address} port ${t.port}.`,
      ...(c.failed.length
        ? {
            detail: c.failed.map(
              (f) =>
                `${f.address} failed first (${f.errno}); clients fall back to the next address`,
            ),
          }
        : {}),
    });

    // 3. What does the port speak?
    checkAbort();
    let hs: TlsHandshake | null = null;
    const hostHeader = `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
    if (t.scheme === 'wss') {
      const p = await probeTls(address, t.port, t.host, timeoutMs, signal);
      if (p.ok) {
        hs = p.hs;
        report.speaks = 'tls';
        if (hs.protocol === 'TLSv1' || hs.protocol === 'TLSv1.1') {
          // Reported here, then the certificate and upgrade are still checked so one run shows everything.
          emit('tls', {
            status: 'fail',
            code: 'TLS_OLD_VERSION',
            explanation: `The port speaks TLS, but only ${hs.protocol}, which browsers, Node and curl refuse (TLS 1.2 is the minimum).`,
            fix: 'Enable TLS 1.2 or 1.3 on the server (its minimum version or cipher settings).',
          });
        } else {
          emit('tls', {
            status: 'pass',
            explanation: `The port speaks TLS (${hs.protocol ?? 'unknown version'}), as wss:// expects.`,
          });
        }
      } else {
        const plain = await probePlain(address, t.port, hostHeader, timeoutMs, signal);
        if (plain.kind === 'http') {
          report.speaks = 'plain';
          const wsUrl = 'ws' + t.url.slice(3);
          emit('tls', {
            status: 'fail',
            code: 'TLS_ON_PLAIN_PORT',
            explanation:
              `The URL says wss:// (TLS) but ${where} speaks plain HTTP: it answered a plain request with ` +
              `${JSON.stringify(plain.statusLine)}. Chromium shows this as net::ERR_SSL_PROTOCOL_ERROR (a page in Firefox: SSL_ERROR_RX_RECORD_TOO_LONG); Node says ` +
              `${JSON.stringify(
                p.message
                  .split('\n')[0]
                  ?.replace(/^.*routines:/, '')
                  .replace(/:\.\.\/.*$/, '') ?? p.errno,
              )}.`,
            fix: `Use ${JSON.stringify(wsUrl)} for this port, or point wss:// at the server's TLS port.`,
            detail: [`TLS handshake: ${p.errno}`],
          });
          skipRest('Not run: the port does not speak TLS.');
          return finish();
        }
        emit('tls', {
          status: 'fail',
          code: p.timedOut ? 'TIMEOUT' : 'TLS_HANDSHAKE_FAILED',
          explanation: p.timedOut
            ? `${where} accepted the connection but did not answer the TLS handshake within ${timeoutMs} ms (nor a plain HTTP request).`
            : plain.kind === 'other'
              ? `${where} speaks neither TLS nor HTTP: it answered ${JSON.stringify(plain.preview)} (TLS handshake: ${p.errno}).`
              : `The TLS handshake with ${where} failed: ${p.message.split('\n')[0]} (${p.errno}).`,
          fix: p.timedOut
            ? 'Check that this port runs the WebSocket server and that it is not stuck.'
            : plain.kind === 'other'
              ? "Point the URL at the WebSocket server's port."
              : "Check the server's TLS setup (certificate and key loaded and matching, TLS 1.2 or later).",
          detail: [`plain HTTP probe: ${plain.kind}`, ...runtimeLimits()],
        });
        skipRest('Not run: no TLS session.');
        return finish();
      }
    } else {
      const plain = await probePlain(address, t.port, hostHeader, timeoutMs, signal);
      if (plain.kind === 'http') {
        report.speaks = 'plain';
        emit('tls', {
          status: 'pass',
          explanation: 'The port speaks plain HTTP, as ws:// expects.',
        });
      } else {
        const p = await probeTls(address, t.port, t.host, timeoutMs, signal);
        if (p.ok) {
          report.speaks = 'tls';
          const wssUrl = 'wss' + t.url.slice(2);
          emit('tls', {
            status: 'fail',
            code: 'PLAIN_ON_TLS_PORT',
            explanation:
              `The URL says ws:// (plain) but ${where} speaks TLS (${p.hs.protocol ?? 'TLS'}): the server drops ` +
              'the unencrypted request with no HTTP answer. Chromium reports "Connection closed before receiving ' +
              'a handshake response"; other clients see the connection closed or reset.',
            fix: `Use ${JSON.stringify(wssUrl)} for this port, or point ws:// at the server's plain port.`,
            detail: [`plain HTTP probe: ${plain.kind}`],
          });
          skipRest('Not run: the port speaks TLS, not plain HTTP.');
          return finish();
        }
        // Neither plain HTTP nor TLS answered: the upgrade step says what came back.
        emit('tls', {
          status: 'pass',
          explanation: `The port does not speak TLS, as ws:// expects (it did not answer a plain HTTP request either: see the upgrade step).`,
          detail: [`plain HTTP probe: ${plain.kind}`, `TLS probe: ${p.errno}`],
        });
      }
    }

    // 4. Certificate (wss only)
    checkAbort();
    if (!hs) {
      emit('certificate', { status: 'skip', explanation: 'Not applicable: ws:// uses no TLS.' });
    } else {
      const hsNow = hs;
      const v = await judgeCertificate({
        host: t.host,
        hs: hsNow,
        ourCa,
        systemAnchors: loadSystemAnchors(),
        ...(opts.forApp ? { forApp: true } : {}),
        verifyWith: async (ca) => {
          const p = await probeTls(address, t.port, t.host, timeoutMs, signal, ca);
          return p.ok ? p.hs.authorizationError : { code: p.errno, message: p.message };
        },
      });
      report.tls = {
        protocol: hsNow.protocol,
        cipher: hsNow.cipher,
        chain: hsNow.chain.map((x) => ({
          subject: x.subject.replace(/\n/g, ', '),
          issuer: x.issuer.replace(/\n/g, ', '),
          notBefore: new Date(x.validFrom).toISOString(),
          notAfter: new Date(x.validTo).toISOString(),
          fingerprint256: x.fingerprint256,
        })),
        names: v.names,
        trustedBySystem: v.trustedBySystem,
        trustedByOurCa: v.trustedByOurCa,
        issuedByOurCa: v.issuedByOurCa,
      };
      // Per-client trust: each client family judged from the store it reads. Then the trust verdict is
      // theirs; judgeCertificate's own CERT_UNTRUSTED (system bundle + our CA only) steps aside.
      // With no CA to anchor the chain at all, CERT_UNTRUSTED (and its fix: issue from our CA) stands.
      const anchor = pickAnchor(hsNow.chain, ourCa);
      const universal = anchor ? v.problems.filter((m) => m.code !== 'CERT_UNTRUSTED') : v.problems;
      const clients = opts.clients
        ? await judgeClients({
            chain: hsNow.chain,
            ourCa,
            universal: universal[0] ? universalText(universal[0].code) : null,
            opts: opts.clients,
          })
        : [];
      if (opts.clients) report.clients = clients;
      const problems = clients.length ? universal : v.problems;
      const withClients = clients.length ? { clients } : {};
      const names = (verdict: string) =>
        clients.filter((c) => c.verdict === verdict).map((c) => c.name);
      const [fails, works, unknown] = [names('fails'), names('works'), names('unknown')];
      const [first, ...more] = problems;
      if (!first && clients.length && (fails.length || unknown.length)) {
        const none = !works.length && !unknown.length;
        const cn = anchor ? JSON.stringify(cnOf(anchor.cert.subject)) : '';
        const words = opts.clients?.commands === false;
        const fixes = clients
          .filter((c) => c.verdict === 'fails')
          .map((c) => (words ? c.fix : (c.command ?? c.fix)))
          .filter((f): f is string => Boolean(f));
        const clauses = [
          works.length ? `${andList(works)} ${works.length === 1 ? 'trusts' : 'trust'} it` : '',
          fails.length ? `${andList(fails)} ${fails.length === 1 ? 'does' : 'do'} not` : '',
          unknown.length ? `cannot tell for ${andList(unknown)}` : '',
        ].filter(Boolean);
        emit('certificate', {
          status: none ? 'fail' : 'warn',
          code: none ? 'CERT_UNTRUSTED' : 'CERT_UNTRUSTED_BY_SOME',
          explanation:
            `The certificate covers ${JSON.stringify(t.host)} and is within its dates; each client reads ` +
            `its own trust store, and for its CA ${cn}: ${clauses.join('; ')}.`,
          ...(fixes.length
            ? { fix: [...new Set(fixes)].join(words ? '. ' : '  |  ') + (words ? '.' : '') }
            : {}),
          detail: v.detail,
          ...withClients,
        });
      } else if (first) {
        emit('certificate', {
          status: 'fail',
          code: first.code,
          ...(more.length ? { also: more.map((m) => m.code) } : {}),
          explanation: problems.map((m) => m.explanation).join(' '),
          fix: [...new Set(problems.map((m) => m.fix))].join(' '),
          detail: v.detail,
          ...withClients,
        });
      } else if (clients.length) {
        emit('certificate', {
          status: 'pass',
          explanation: `The certificate covers ${JSON.stringify(t.host)}, is within its dates, and every client checked trusts its CA: ${clientSummary(clients)}.`,
          detail: v.detail,
          ...withClients,
        });
      } else {
        const by = [
          v.trustedByOurCa ? 'the WSS Studio CA' : '',
          v.trustedBySystem ? 'the system bundle' : '',
        ]
          .filter(Boolean)
          .join(' and ');
        emit('certificate', {
          status: 'pass',
          explanation: `The certificate covers ${JSON.stringify(t.host)}, is within its dates, and is trusted by ${by}.`,
          detail: v.detail,
        });
      }
    }

    // 5. Upgrade
    checkAbort();
    const key = newKey();
    const res = await sendUpgrade({
      target: t,
      address,
      tls: t.scheme === 'wss',
      key,
      ...(page ? { origin: page.origin } : {}),
      protocols,
      timeoutMs,
      ...(signal ? { signal } : {}),
    });
    const up = judgeUpgrade(res, {
      url: t.url,
      key,
      protocols,
      ...(page ? { origin: page.origin } : {}),
      timeoutMs,
      ...(opts.forApp ? { forApp: true } : {}),
    });
    report.upgrade = up.facts;
    if (up.ok) emit('upgrade', { status: 'pass', explanation: up.explanation, detail: up.detail });
    else
      emit('upgrade', {
        status: 'fail',
        code: up.code,
        explanation: up.explanation,
        fix: up.fix,
        detail: up.detail,
      });
    return finish();
  } catch (e) {
    if (!(e instanceof Aborted)) throw e;
    report.cancelled = true;
    report.durationMs = Date.now() - started;
    return report;
  }
}

function parseCa(pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (e) {
    throw inputError(
      'BAD_CA',
      'read CA certificate',
      `the PEM does not parse (${(e as Error).message})`,
      {
        field: 'caPem',
        hint: 'pass the CA certificate PEM (loadCa(store).certPem), or run "wss-studio ca init"',
      },
    );
  }
}

/** A certificate problem every client refuses, in a few words for the per-client rows. */
function universalText(code: string): string {
  return (
    {
      CERT_NAME_MISMATCH: 'the certificate does not cover this host',
      CERT_EXPIRED: 'the certificate has expired',
      CERT_NOT_YET_VALID: 'the certificate is not valid yet',
      NAME_CONSTRAINT_VIOLATION: "a name is outside the CA's constraints",
      CERT_INVALID: 'the chain does not verify',
      CERT_UNTRUSTED: 'no known CA issued the certificate',
    }[code] ?? code
  );
}
