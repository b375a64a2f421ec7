import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserWindow } from 'electron';
import { electronHooks, runCommand } from './hooks';

const tmp = mkdtempSync(path.join(tmpdir(), 'wss-hooks-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function hooks(savePath: string | undefined, response = 1) {
  const dialog = {
    showSaveDialog: vi.fn(async (..._a: unknown[]) => ({
      canceled: !savePath,
      filePath: savePath ?? '',
    })),
    showMessageBox: vi.fn(async (..._a: unknown[]) => ({ response, checkboxChecked: false })),
  };
  const h = electronHooks({
    dialog: dialog as never,
    clipboard: { writeText: vi.fn() },
    shell: { openExternal: vi.fn(async () => {}) },
    window: () => ({}) as BrowserWindow,
    downloadsDir: () => tmp,
  });
  return { h, dialog };
}

describe('native hooks', () => {
  it('save dialog: suggests Downloads/<name>, writes keys 0600 and certificates 0644, cancel writes nothing', async () => {
    const key = path.join(tmp, 'localhost-key.pem');
    const { h, dialog } = hooks(key);
    expect(await h.saveFile?.('localhost-key.pem', Buffer.from('KEY'))).toEqual({
      saved: true,
      path: key,
    });
    expect(dialog.showSaveDialog.mock.calls[0]).toEqual([{}, { defaultPath: key }]);
    expect(readFileSync(key, 'utf8')).toBe('KEY');
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const crt = path.join(tmp, 'localhost.pem');
    await hooks(crt).h.saveFile?.('localhost.pem', Buffer.from('CERT'));
    expect(statSync(crt).mode & 0o777).toBe(0o644);
    expect(await hooks(undefined).h.saveFile?.('x.pem', Buffer.from('x'))).toEqual({
      saved: false,
    });
  });

  it('confirm: only the OK button (index 1) confirms; Cancel is the default', async () => {
    const yes = hooks(undefined, 1);
    expect(await yes.h.confirm?.({ title: 't', message: 'm', ok: 'Trust CA' })).toBe(true);
    const opts = (yes.dialog.showMessageBox.mock.calls[0] as unknown[] | undefined)?.[1];
    expect(opts).toMatchObject({ buttons: ['Cancel', 'Trust CA'], defaultId: 0, cancelId: 0 });
    expect(
      await hooks(undefined, 0).h.confirm?.({ title: 't', message: 'm', ok: 'Trust CA' }),
    ).toBe(false);
  });

  it('runs a privileged command as argv (no shell of ours) and reports its exit code', async () => {
    expect(
      await runCommand([process.execPath, '-e', 'process.stderr.write("no"); process.exit(3)']),
    ).toEqual({
      code: 3,
      stderr: 'no',
    });
    expect((await runCommand(['/nonexistent/pkexec'])).code).toBeNull();
  });
});
