// Native dialogs a desktop user expects, handed to the engine as ShellHooks: the save dialog for exports,
// confirmations before trusting or removing the CA, the clipboard, opening allow-listed links.
import type { BrowserWindow, Clipboard, Dialog, Shell } from 'electron';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ShellHooks } from '../engine';

export interface HookDeps {
  dialog: Pick<Dialog, 'showSaveDialog' | 'showMessageBox'>;
  clipboard: Pick<Clipboard, 'writeText'>;
  shell: Pick<Shell, 'openExternal'>;
  window: () => BrowserWindow | undefined;
  downloadsDir: () => string;
}

export function electronHooks(d: HookDeps): ShellHooks {
  return {
    copy(text) {
      d.clipboard.writeText(text);
      return true;
    },
    async saveFile(suggestedName, data) {
      const win = d.window();
      const opts = { defaultPath: path.join(d.downloadsDir(), suggestedName) };
      const r = win
        ? await d.dialog.showSaveDialog(win, opts)
        : await d.dialog.showSaveDialog(opts);
      if (r.canceled || !r.filePath) return { saved: false };
      // Private keys and PKCS#12 files are readable by the user only.
      const secret = /(-key\.pem|\.p12|\.pfx)$/.test(r.filePath);
      await writeFile(r.filePath, data, { mode: secret ? 0o600 : 0o644 });
      return { saved: true, path: r.filePath };
    },
    async openExternal(url) {
      await d.shell.openExternal(url);
      return true;
    },
    async confirm(q) {
      const win = d.window();
      const opts = {
        type: 'question' as const,
        buttons: ['Cancel', q.ok],
        defaultId: 0,
        cancelId: 0,
        title: q.title,
        message: q.message,
        ...(q.detail ? { detail: q.detail } : {}),
      };
      const r = win
        ? await d.dialog.showMessageBox(win, opts)
        : await d.dialog.showMessageBox(opts);
      return r.response === 1;
    },
    // The OS privilege prompt: the trust engine builds ['pkexec', '/bin/sh', '-c', script] with every path
    // quoted; pkexec shows the desktop's password dialog. No shell of ours is involved.
    runPrivileged(argv) {
      return runCommand(argv);
    },
  };
}

export function runCommand(argv: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    if (!file) return resolve({ code: null, stderr: 'empty command' });
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += c.toString();
    });
    child.once('error', (e) => resolve({ code: null, stderr: e.message }));
    child.once('close', (code) => resolve({ code, stderr }));
  });
}
