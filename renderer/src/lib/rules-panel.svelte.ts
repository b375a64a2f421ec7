// State of one server's rules panel: the rules text with live validation, "try a message", pushes and the
// manual push box. Everything goes through the API (rules.get/set/try, push.*), so it works the same in the
// desktop app and in web mode.
import type { PushStatusDto, RuleTryResult, RulesStatusDto } from '../../../shared/api';
import type { Api } from './api';
import { q } from '../../../shared/errors';
import { base64ToBytes, bytesToBase64, errorText, parseHex } from './format';
import { checkRulesText } from './rules-text';
import type { UiError } from './studio.svelte';

export class RulesPanel {
  text = $state('');
  status = $state<RulesStatusDto | null>(null);
  saved = $state('');
  busy = $state(false);
  error = $state<UiError | null>(null);
  notice = $state('');
  tryText = $state('');
  /** How tryText is read: as a text message, or as hex digits of a binary message. */
  tryAs = $state<'text' | 'hex'>('text');
  tryMessageNumber = $state(1);
  tryResult = $state<RuleTryResult | null>(null);
  pushes = $state<PushStatusDto[]>([]);
  sendText = $state('');
  /** '' = every open connection. */
  sendConn = $state('');
  sendResult = $state('');
  /** A HAR (DevTools export) or JSON Lines recording read from a file in the page. */
  recording = $state<{ name: string; text: string } | null>(null);
  replayConn = $state('');
  replaySpeed = $state(1);
  replayWait = $state(false);
  replayResult = $state('');

  readonly check = $derived(checkRulesText(this.text));
  readonly dirty = $derived(this.text !== this.saved);

  constructor(
    readonly api: Api,
    readonly serverId: string,
  ) {}

  async load(): Promise<void> {
    await this.run(async () => {
      const s = await this.api.call('rules.get', { serverId: this.serverId });
      this.status = s;
      this.saved = this.text =
        Object.keys(s.rules).length === 0 ? '' : JSON.stringify(s.rules, null, 2);
      this.pushes = await this.api.call('push.list', { serverId: this.serverId });
    });
  }

  async save(): Promise<void> {
    const c = this.check;
    if (!c.ok) return;
    await this.run(async () => {
      this.status = await this.api.call('rules.set', { serverId: this.serverId, rules: c.value });
      this.saved = this.text;
      this.notice = 'saved: the server uses these rules from its next message on';
      this.pushes = await this.api.call('push.list', { serverId: this.serverId });
    });
  }

  revert(): void {
    this.text = this.saved;
  }

  /** Try against the text being edited when it is valid (nothing is saved or sent). */
  async tryMessage(): Promise<void> {
    const c = this.check;
    let message: { text: string } | { dataBase64: string } = { text: this.tryText };
    if (this.tryAs === 'hex') {
      const hex = parseHex(this.tryText);
      if (!hex.bytes) {
        this.tryResult = null;
        this.error = {
          message: `try a binary message: ${q(this.tryText.slice(0, 40))} is not hex (${hex.error})`,
          hint: 'write the bytes as hex digits, e.g. "de ad be ef" or "0xca 0xfe", or choose Text',
          field: 'tryText',
        };
        return;
      }
      message = { dataBase64: bytesToBase64(hex.bytes) };
    }
    await this.run(async () => {
      this.tryResult = await this.api.call('rules.try', {
        serverId: this.serverId,
        ...message,
        messageNumber: Math.max(1, Math.floor(Number(this.tryMessageNumber) || 1)),
        ...(c.ok ? { rules: c.value } : {}),
      });
    });
  }

  async togglePush(p: PushStatusDto): Promise<void> {
    await this.run(async () => {
      if (p.running) await this.api.call('push.stop', { serverId: this.serverId, pushId: p.id });
      else await this.api.call('push.start', { serverId: this.serverId, pushId: p.id });
      this.pushes = await this.api.call('push.list', { serverId: this.serverId });
    });
  }

  async send(): Promise<void> {
    const conn = this.sendConn.trim() === '' ? undefined : Number(this.sendConn);
    await this.run(async () => {
      const r = await this.api.call('push.send', {
        serverId: this.serverId,
        text: this.sendText,
        ...(conn !== undefined ? { conn } : {}),
      });
      this.sendResult =
        r.sent.length === 0
          ? 'no open connection to send to'
          : `sent to connection${r.sent.length > 1 ? 's' : ''} ${r.sent.join(', ')} (logged as injected)`;
    });
  }

  async replay(): Promise<void> {
    const rec = this.recording;
    if (!rec) return;
    await this.run(async () => {
      const r = await this.api.call('replay.start', {
        serverId: this.serverId,
        conn: Number(this.replayConn),
        recording: rec.text,
        speed: Number(this.replaySpeed) || 1,
        waitForClient: this.replayWait,
      });
      this.replayResult = `replaying ${r.messages} messages of ${r.session} to connection ${this.replayConn}${
        r.awaits ? `, waiting for ${r.awaits} client messages` : ''
      }`;
    });
  }

  private async run(fn: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.error = null;
    this.notice = '';
    try {
      await fn();
    } catch (e) {
      this.error = errorText(e);
    } finally {
      this.busy = false;
    }
  }
}

/** What a tried rule would send, for the page: the text, or "binary N B: de ad …" (first 64 bytes). */
export function sendPreview(s: { text?: string; dataBase64?: string }): string {
  if (s.text !== undefined) return s.text;
  const b = base64ToBytes(s.dataBase64 ?? '');
  const hex = Array.from(b.subarray(0, 64), (x) => x.toString(16).padStart(2, '0')).join(' ');
  return `binary ${b.length} B: ${hex}${b.length > 64 ? ' …' : ''}`;
}
