// A static check in the spirit of @doyensec/electronegativity (not installed here): scan every source file
// under main/ and shared/ for the patterns its high-severity checks flag. Each rule names the checklist item.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|js|cjs|mjs)$/.test(name) && !/\.test\.ts$/.test(name)) out.push(p);
  }
  return out;
}

const RULES: { id: string; re: RegExp; why: string }[] = [
  {
    id: 'NODE_INTEGRATION',
    re: /nodeIntegration(InSubFrames|InWorker)?\s*:\s*true/,
    why: 'checklist #2',
  },
  { id: 'CONTEXT_ISOLATION', re: /contextIsolation\s*:\s*false/, why: 'checklist #3' },
  { id: 'SANDBOX', re: /sandbox\s*:\s*false/, why: 'checklist #4' },
  { id: 'WEB_SECURITY', re: /webSecurity\s*:\s*false/, why: 'checklist #5' },
  { id: 'INSECURE_CONTENT', re: /allowRunningInsecureContent\s*:\s*true/, why: 'checklist #8' },
  { id: 'EXPERIMENTAL_FEATURES', re: /experimentalFeatures\s*:\s*true/, why: 'checklist #9' },
  { id: 'BLINK_FEATURES', re: /enableBlinkFeatures/, why: 'checklist #10' },
  { id: 'WEBVIEW_TAG', re: /webviewTag\s*:\s*true/, why: 'checklist #12' },
  { id: 'REMOTE_LOAD', re: /loadURL\(\s*['"`]https?:/, why: 'checklist #1: no remote content' },
  {
    id: 'FILE_LOAD',
    re: /loadFile\(|loadURL\(\s*['"`]file:/,
    why: 'checklist #18: custom protocol, not file://',
  },
  {
    id: 'EXPOSE_IPC_RENDERER',
    re: /exposeInMainWorld\(\s*[^,]+,\s*(ipcRenderer\b|\{[^}]*\bipcRenderer\b)/,
    why: 'checklist #17: never expose ipcRenderer',
  },
  { id: 'DANGEROUS_EVAL', re: /\beval\(|new Function\(/, why: 'CSP script-src self' },
  { id: 'INSECURE_CSP', re: /script-src[^"'`;]*'unsafe-(inline|eval)'/, why: 'checklist #7' },
  {
    id: 'CERT_ERROR_BYPASS',
    re: /on\(\s*['"]certificate-error['"]/,
    why: 'never accept bad certificates',
  },
  { id: 'TLS_REJECT_OFF', re: /NODE_TLS_REJECT_UNAUTHORIZED/, why: 'never turn TLS checks off' },
];

describe('static security check over main/ and shared/', () => {
  const files = [...sources(path.join(ROOT, 'main')), ...sources(path.join(ROOT, 'shared'))];

  it('finds no high-severity pattern', () => {
    const findings: string[] = [];
    for (const f of files) {
      const lines = readFileSync(f, 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (/^\s*(\/\/|\*)/.test(line)) return; // comments may name the patterns
        for (const r of RULES) {
          if (r.re.test(line))
            findings.push(`${path.relative(ROOT, f)}:${i + 1} ${r.id} (${r.why}): ${line.trim()}`);
        }
      });
    }
    expect(findings).toEqual([]);
  });

  it('the rules catch what they claim (so a green run means something)', () => {
    const bad = [
      'webPreferences: { nodeIntegration: true }',
      'contextIsolation: false',
      'sandbox: false',
      "contextBridge.exposeInMainWorld('x', ipcRenderer)",
      "contextBridge.exposeInMainWorld('x', { ipc: ipcRenderer })",
      "contextBridge.exposeInMainWorld('x', { ipcRenderer })",
      "win.loadURL('https://example.com')",
      "win.loadFile('index.html')",
      "app.on('certificate-error', cb)",
    ];
    for (const b of bad)
      expect(
        RULES.some((r) => r.re.test(b)),
        b,
      ).toBe(true);
  });

  it('only main/app/ imports electron at run time, and the preload uses only contextBridge and ipcRenderer', () => {
    const offenders = files.filter(
      (f) =>
        !f.startsWith(path.join(ROOT, 'main', 'app') + path.sep) &&
        /^import\s+(?!type\b)[^;]*from\s+['"]electron['"]/m.test(readFileSync(f, 'utf8')),
    );
    expect(offenders.map((f) => path.relative(ROOT, f))).toEqual([]);
    const preload = readFileSync(path.join(ROOT, 'main', 'app', 'preload.ts'), 'utf8');
    expect(preload).toMatch(/import \{ contextBridge, ipcRenderer \} from 'electron';/);
    expect(preload).not.toMatch(/from 'node:|require\(/);
  });

  it('every ipcMain.handle goes through the contract binding (main/app/ipc.ts)', () => {
    const raw = files.filter(
      (f) =>
        !f.endsWith(path.join('app', 'ipc.ts')) &&
        /ipcMain\.(handle|on)\(/.test(readFileSync(f, 'utf8')),
    );
    expect(raw.map((f) => path.relative(ROOT, f))).toEqual([]);
  });
});
