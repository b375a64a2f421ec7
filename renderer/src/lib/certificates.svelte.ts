// State for the Certificates screen: the issue form with live per-name validation, and exports.
import type { CertFormat, ExportDto, LeafDto, NameVerdict } from '../../../shared/api';
import { saveExport } from './download';
import { splitNames } from './names';
export { splitNames };
import { errorText } from './format';
import type { Studio, UiError } from './studio.svelte';

export class IssueForm {
  text = $state('');
  keyType = $state<'ecdsa' | 'rsa'>('ecdsa');
  client = $state(false);
  days = $state<number | null>(null);
  verdicts = $state<NameVerdict[]>([]);
  checking = $state(false);
  submitting = $state(false);
  error = $state<UiError | null>(null);
  warnings = $state<string[]>([]);

  readonly names = $derived(splitNames(this.text));
  readonly invalid = $derived(this.verdicts.filter((v) => v.error));
  readonly canSubmit = $derived(
    this.names.length > 0 && this.invalid.length === 0 && !this.checking && !this.submitting,
  );

  #timer: ReturnType<typeof setTimeout> | undefined;
  #ticket = 0;

  constructor(readonly studio: Studio) {}

  /** Called on every keystroke: re-validate with the engine's own rules after a short pause. */
  setText(text: string): void {
    this.text = text;
    this.error = null;
    clearTimeout(this.#timer);
    const names = splitNames(text);
    if (names.length === 0) {
      this.verdicts = [];
      this.checking = false;
      return;
    }
    this.checking = true;
    this.#timer = setTimeout(() => void this.check(names), 120);
  }

  async check(names = this.names): Promise<void> {
    const ticket = ++this.#ticket;
    try {
      const v = await this.studio.api.call('names.check', { names });
      if (ticket === this.#ticket) this.verdicts = v;
    } catch (e) {
      if (ticket === this.#ticket) this.error = errorText(e);
    } finally {
      if (ticket === this.#ticket) this.checking = false;
    }
  }

  async submit(): Promise<LeafDto | null> {
    if (this.names.length === 0) {
      this.error = { message: 'Enter at least one name, IP address or email.' };
      return null;
    }
    this.submitting = true;
    this.error = null;
    this.warnings = [];
    try {
      const r = await this.studio.api.call('cert.issue', {
        names: this.names,
        keyType: this.keyType,
        client: this.client,
        ...(this.days ? { days: this.days } : {}),
      });
      this.warnings = r.warnings;
      // Shown at once (the screen selects it); the store.changed stream then reloads the list.
      this.studio.putLeaf(r.leaf);
      this.text = '';
      this.verdicts = [];
      return r.leaf;
    } catch (e) {
      this.error = errorText(e);
      return null;
    } finally {
      this.submitting = false;
    }
  }
}

export const FORMATS: { id: CertFormat; label: string; about: string }[] = [
  { id: 'pem', label: 'Certificate (PEM)', about: 'cert.pem: the certificate alone' },
  { id: 'key', label: 'Private key (PEM)', about: 'key.pem: keep it private' },
  { id: 'fullchain', label: 'Full chain (PEM)', about: 'certificate + CA, what most servers want' },
  { id: 'der', label: 'Certificate (DER)', about: 'binary, for Java and Windows tools' },
  {
    id: 'p12',
    label: 'PKCS#12 bundle',
    about: 'certificate + key + CA in one password-protected file',
  },
];

export class ExportState {
  format = $state<CertFormat>('fullchain');
  password = $state('');
  confirm = $state('');
  legacy = $state(false);
  askPassword = $state(false);
  busy = $state(false);
  result = $state<ExportDto | null>(null);
  savedTo = $state('');
  error = $state<UiError | null>(null);

  readonly passwordProblem = $derived(
    this.password.length === 0
      ? 'Enter a password: PKCS#12 files are encrypted with it.'
      : this.password !== this.confirm
        ? 'The two passwords differ.'
        : '',
  );

  constructor(readonly studio: Studio) {}

  reset(): void {
    this.result = null;
    this.error = null;
    this.savedTo = '';
  }

  /** PKCS#12 asks for a password first; the other formats export at once. */
  start(id: string, format: CertFormat): void {
    this.format = format;
    this.reset();
    if (format === 'p12') {
      this.password = '';
      this.confirm = '';
      this.askPassword = true;
      return;
    }
    void this.run(id);
  }

  async run(id: string): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      const dto = await this.studio.api.call('cert.export', {
        id,
        format: this.format,
        ...(this.format === 'p12' ? { password: this.password, legacy: this.legacy } : {}),
      });
      this.askPassword = false;
      this.password = '';
      this.confirm = '';
      this.result = dto;
      const r = await saveExport(this.studio.api, this.studio.info?.native ?? false, dto);
      this.savedTo = r.saved ? r.where : '';
    } catch (e) {
      this.error = errorText(e);
    } finally {
      this.busy = false;
    }
  }
}
