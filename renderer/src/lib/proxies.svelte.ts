// State for the "Front a server" screen: the proxy list kept fresh from `proxy.status`, the add
// form, and per-card fault drafts. The checks and the certificate work happen in the engine (proxy.add);
// this only collects input and shows the answer.
import type { FaultSettings, ProxyAddResult, ProxyDto } from '../../../shared/api';
import type { Api } from './api';
import { errorText } from './format';
import type { UiError } from './studio.svelte';

export class ProxiesState {
  list = $state<ProxyDto[]>([]);
  loadError = $state<UiError | null>(null);
  // add form
  publicUrl = $state('https://app.test:8443');
  target = $state('http://localhost:5173');
  certId = $state('');
  preserveHost = $state(true);
  rewriteRedirects = $state(true);
  targetVerify = $state(true);
  busy = $state(false);
  addError = $state<UiError | null>(null);
  lastAdd = $state<ProxyAddResult | null>(null);
  #off: (() => void) | undefined;

  constructor(readonly api: Api) {}

  start(): () => void {
    this.#off = this.api.on('proxy.status', (p) => (this.list = p.proxies));
    void this.refresh();
    return () => this.#off?.();
  }

  async refresh(): Promise<void> {
    try {
      this.list = await this.api.call('proxy.list', {});
      this.loadError = null;
    } catch (e) {
      this.loadError = errorText(e);
    }
  }

  /** Check, pick or issue a certificate, save and start: one engine task (proxy.add). */
  async add(): Promise<boolean> {
    this.busy = true;
    this.addError = null;
    this.lastAdd = null;
    try {
      this.lastAdd = await this.api.call('proxy.add', {
        publicUrl: this.publicUrl.trim(),
        target: this.target.trim(),
        ...(this.certId ? { certId: this.certId } : {}),
        preserveHost: this.preserveHost,
        rewriteRedirects: this.rewriteRedirects,
        targetVerify: this.targetVerify,
        start: true,
      });
      await this.refresh();
      return true;
    } catch (e) {
      this.addError = errorText(e);
      return false;
    } finally {
      this.busy = false;
    }
  }
}

/** Editable copy of a proxy's faults; apply() sends only what the form holds. */
export class FaultDraft {
  latencyMs = $state(0);
  jitterMs = $state(0);
  dropInPct = $state(0);
  dropOutPct = $state(0);
  refuse = $state(false);
  refuseStatus = $state(503);
  throttle = $state(false);
  bandwidth = $state(65536);
  closeCode = $state(4000);
  closeReason = $state('closed from WSS Studio');
  injectConn = $state(1);
  injectTo = $state<'client' | 'target'>('client');
  injectText = $state('');

  constructor(f: FaultSettings) {
    this.latencyMs = f.latencyMs;
    this.jitterMs = f.jitterMs;
    this.dropInPct = Math.round(f.dropIn * 1000) / 10;
    this.dropOutPct = Math.round(f.dropOut * 1000) / 10;
    this.refuse = f.refuseStatus !== null;
    this.refuseStatus = f.refuseStatus ?? 503;
    this.throttle = f.bandwidth !== null;
    this.bandwidth = f.bandwidth ?? 65536;
  }

  settings(): Partial<FaultSettings> {
    return {
      latencyMs: Math.max(0, Math.round(this.latencyMs || 0)),
      jitterMs: Math.max(0, Math.round(this.jitterMs || 0)),
      dropIn: clampPct(this.dropInPct) / 100,
      dropOut: clampPct(this.dropOutPct) / 100,
      refuseStatus: this.refuse ? Math.round(this.refuseStatus) : null,
      bandwidth: this.throttle ? Math.round(this.bandwidth) : null,
    };
  }
}

const clampPct = (n: number) => Math.min(100, Math.max(0, Number.isFinite(n) ? n : 0));

/** One line for the card: what faults are in force. */
export function faultSummary(f: FaultSettings): string {
  const parts: string[] = [];
  if (f.latencyMs || f.jitterMs) parts.push(`+${f.latencyMs} ms (±${f.jitterMs})`);
  if (f.dropIn) parts.push(`drop ${Math.round(f.dropIn * 100)}% to target`);
  if (f.dropOut) parts.push(`drop ${Math.round(f.dropOut * 100)}% to client`);
  if (f.hold) parts.push('holding');
  if (f.refuseStatus !== null) parts.push(`refusing upgrades (${f.refuseStatus})`);
  if (f.bandwidth !== null) parts.push(`${f.bandwidth} B/s`);
  return parts.join(' · ') || 'none';
}
