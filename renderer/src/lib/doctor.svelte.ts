// The Doctor screen's state: runs doctor.run as a long task and shows each step as it finishes
// (task.progress carries `doctorStep`), then the full report.
import type {
  DoctorClient,
  DoctorClientVerdict,
  DoctorReport,
  DoctorStep,
  TrustStoreId,
} from '../../../shared/api';
import { errorText } from './format';
import type { Studio, UiError } from './studio.svelte';

/** The client filter's choices (doctor.run `clients`; the CLI's --client). */
export const CLIENT_CHOICES: { value: DoctorClient; label: string }[] = [
  { value: 'chrome', label: 'Chrome/Chromium' },
  { value: 'firefox', label: 'Firefox' },
  { value: 'system', label: 'curl, openssl, Python, Go' },
  { value: 'node', label: 'Node' },
  { value: 'java', label: 'Java' },
  { value: 'windows', label: 'Windows browsers' },
  { value: 'macos', label: 'Safari and macOS apps' },
];

export class DoctorState {
  url = $state('');
  origin = $state('');
  /** Judge trust for this client family only; '' = every family found on this machine. */
  client = $state<DoctorClient | ''>('');
  running = $state(false);
  taskId = $state<string | null>(null);
  report = $state<DoctorReport | null>(null);
  error = $state<UiError | null>(null);

  /** Steps: the final report's once it is in, else the ones streamed so far. */
  readonly steps = $derived.by<DoctorStep[]>(() => {
    if (this.report) return this.report.steps;
    if (!this.taskId) return [];
    return this.#streamed;
  });
  get current() {
    return this.taskId ? this.studio.tasks[this.taskId] : undefined;
  }
  /** Per-client trust verdicts: the report's, else the certificate step's as it streams in. */
  readonly clients = $derived.by<DoctorClientVerdict[]>(() => {
    if (this.report?.clients) return this.report.clients;
    const cert = this.steps.find((s) => s.id === 'certificate');
    return cert?.clients ?? [];
  });
  /** The same URL with the scheme the port really speaks, when the doctor found the other one. */
  readonly otherScheme = $derived.by<string | null>(() => {
    const code = this.steps.find((s) => s.id === 'tls')?.code;
    const url = this.report?.url.trim() ?? '';
    if (code === 'TLS_ON_PLAIN_PORT' && /^wss:/i.test(url)) return 'ws:' + url.slice(4);
    if (code === 'PLAIN_ON_TLS_PORT' && /^ws:/i.test(url)) return 'wss:' + url.slice(3);
    return null;
  });
  /** The server wants a client certificate: the Client screen (engine) can present one. */
  readonly needsClientCert = $derived(
    this.steps.some((s) => s.id === 'upgrade' && s.code === 'CLIENT_CERT_REQUIRED'),
  );
  /** A trust install waiting for the user's yes (web mode; the desktop app asks natively). */
  pendingInstall = $state<{ stores: TrustStoreId[]; label: string } | null>(null);
  installing = $state(false);
  installNote = $state('');
  #streamed = $state<DoctorStep[]>([]);
  #unsub: (() => void) | null = null;

  constructor(readonly studio: Studio) {}

  async run(): Promise<void> {
    if (this.running) return;
    this.error = null;
    this.report = null;
    this.#streamed = [];
    const url = this.url.trim();
    if (!url) {
      this.error = { message: 'Enter the ws:// or wss:// URL your client opens.' };
      return;
    }
    const taskId = this.studio.api.newTaskId();
    this.taskId = taskId;
    this.running = true;
    this.#unsub?.();
    this.#unsub = this.studio.api.on('task.progress', (p) => {
      for (const u of p.updates) {
        if (u.taskId !== taskId || !u.doctorStep) continue;
        const step = u.doctorStep;
        const i = this.#streamed.findIndex((s) => s.id === step.id);
        this.#streamed = i >= 0 ? this.#streamed.with(i, step) : [...this.#streamed, step];
      }
    });
    try {
      this.report = await this.studio.api.call('doctor.run', {
        url,
        ...(this.origin.trim() ? { origin: this.origin.trim() } : {}),
        ...(this.client ? { clients: [this.client] } : {}),
        taskId,
      });
    } catch (e) {
      this.error = errorText(e);
    } finally {
      this.running = false;
      this.#unsub?.();
      this.#unsub = null;
    }
  }

  /** Re-run with the other scheme (the fix for TLS_ON_PLAIN_PORT / PLAIN_ON_TLS_PORT). */
  async switchScheme(): Promise<void> {
    if (!this.otherScheme) return;
    this.url = this.otherScheme;
    await this.run();
  }

  /** The install button of a client row: ask first in web mode, then install and re-run the doctor. */
  askInstall(c: DoctorClientVerdict): void {
    if (!c.install?.length) return;
    const ask = { stores: c.install, label: c.label };
    if (this.studio.info?.native) void this.install(ask.stores);
    else this.pendingInstall = ask;
  }

  async install(stores: TrustStoreId[]): Promise<void> {
    this.pendingInstall = null;
    this.installing = true;
    this.installNote = '';
    try {
      const r = await this.studio.api.call('trust.install', {
        stores,
        taskId: this.studio.api.newTaskId(),
      });
      this.studio.trust = r.stores;
      const sudo = (r.privileged ?? []).filter((p) => !p.ran).map((p) => p.sudo);
      this.installNote = sudo.length
        ? `This store needs administrator rights: run ${sudo.join(' and ')} in a terminal, then diagnose again.`
        : r.stores.every((s) => s.state === 'trusted')
          ? 'Installed. Restart the browser if it was running, then reload the page.'
          : r.stores.map((s) => `${s.label}: ${s.detail}`).join('; ');
    } catch (e) {
      this.installNote = errorText(e).message;
    } finally {
      this.installing = false;
    }
    await this.run();
  }

  async cancel(): Promise<void> {
    if (this.taskId && this.running)
      await this.studio.api.call('task.cancel', { taskId: this.taskId });
  }
}
