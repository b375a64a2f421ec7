// State for the "Front a server" screen: the proxy list kept fresh from `proxy.status` (loaded once, then
// only the stream: every add, start, stop, check and fault change is pushed, whoever made it), the add
// form, and per-card fault drafts. The checks and the certificate work happen in the engine (proxy.add);
// this only collects input and shows the answer. Options left at the engine's defaults are not sent.
import {
  PROXY_DEFAULTS,
  type FaultSettings,
  type Input,
  type ProxyAddResult,
  type ProxyDto,
} from '../../../shared/api';
import type { Api } from './api';
import { CardAction } from './card.svelte';
import { errorText } from './format';
import type { UiError } from './studio.svelte';

export class ProxiesState {
  list = $state<ProxyDto[]>([]);
  loadError = $state<UiError | null>(null);
  // add form
  publicUrl = $state('https://app.test:8443');
  target = $state('http://localhost:5173');
  certId = $state('');
  preserveHost = $state<boolean>(PROXY_DEFAULTS.preserveHost);
  rewriteRedirects = $state<boolean>(PROXY_DEFAULTS.rewriteRedirects);
  targetVerify = $state<boolean>(PROXY_DEFAULTS.targetVerify);
  /** The add in flight and its error, as the cards keep theirs. */
  readonly adding = new CardAction();
  lastAdd = $state<ProxyAddResult | null>(null);
  #off: (() => void) | undefined;

  constructor(readonly api: Api) {}

  get busy(): boolean {
    return this.adding.busy;
  }
  get addError(): UiError | null {
    return this.adding.error;
  }

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

  /** What proxy.add gets: the two URLs, and only the options the user set away from the defaults. */
  input(): Input<'proxy.add'> {
    const input: Input<'proxy.add'> = {
      publicUrl: this.publicUrl.trim(),
      target: this.target.trim(),
      start: true,
    };
    if (this.certId) input.certId = this.certId;
    for (const k of ['preserveHost', 'rewriteRedirects', 'targetVerify'] as const)
      if (this[k] !== PROXY_DEFAULTS[k]) input[k] = this[k];
    return input;
  }

  /** Check, pick or issue a certificate, save and start: one engine task (proxy.add). */
  add(): Promise<boolean> {
    this.lastAdd = null;
    return this.adding.run(async () => {
      this.lastAdd = await this.api.call('proxy.add', this.input());
    });
  }
}

/**
 * Editable copy of a proxy's (or echo server's) faults. settings() holds only the fields the user changed
 * since the draft was made or last applied, so applying never resets a fault someone else set meanwhile.
 * 503 and 65536 are what the form suggests when refusing or throttling is switched on, not engine defaults
 * (the engine's are NO_FAULTS: nothing refused, no limit).
 */
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
  #was: Partial<FaultSettings>;

  constructor(f: FaultSettings) {
    this.latencyMs = f.latencyMs;
    this.jitterMs = f.jitterMs;
    this.dropInPct = Math.round(f.dropIn * 1000) / 10;
    this.dropOutPct = Math.round(f.dropOut * 1000) / 10;
    this.refuse = f.refuseStatus !== null;
    this.refuseStatus = f.refuseStatus ?? 503;
    this.throttle = f.bandwidth !== null;
    this.bandwidth = f.bandwidth ?? 65536;
    this.#was = this.values();
  }

  /** Every fault the form shows, as faults.set takes it. */
  values(): Partial<FaultSettings> {
    return {
      latencyMs: Math.max(0, Math.round(this.latencyMs || 0)),
      jitterMs: Math.max(0, Math.round(this.jitterMs || 0)),
      dropIn: clampPct(this.dropInPct) / 100,
      dropOut: clampPct(this.dropOutPct) / 100,
      refuseStatus: this.refuse ? Math.round(this.refuseStatus) : null,
      bandwidth: this.throttle ? Math.round(this.bandwidth) : null,
    };
  }

  /** Only what the user changed: what faults.set should get. {} = nothing changed. */
  settings(): Partial<FaultSettings> {
    const now = this.values();
    const was = this.#was;
    return Object.fromEntries(
      Object.entries(now).filter(([k, x]) => x !== was[k as keyof FaultSettings]),
    );
  }

  /** The form's values are in force now (after faults.set): later changes are counted from here. */
  applied(): void {
    this.#was = this.values();
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
