// Foreign WebSocket peers against our wss:// echo server: wscat (Node, npm) and Python websockets.
// Each echo must be exact and each frame must show up in the frame log with the right fields.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ServerManager } from '../main/echo/server-manager';
import { storeCertSource } from '../main/echo/index';
import { makeTestPki, waitFor, type TestPki } from '../main/echo/testing';
import type { FrameEvent, LogEvent } from '../main/echo/types';

const root = path.resolve(__dirname, '..');
const WSCAT = path.join(root, 'node_modules', '.bin', 'wscat');
const PYTHON = '/usr/bin/python3';

let pki: TestPki;
let manager: ServerManager;
let port: number;
beforeAll(async () => {
  pki = await makeTestPki();
});
afterAll(() => pki?.cleanup());
afterEach(async () => manager?.stopAll());

async function startWss() {
  manager = new ServerManager({ resolveCert: storeCertSource(pki.store) });
  manager.add({ id: 'tls', scheme: 'wss', certId: pki.leafId });
  port = (await manager.start('tls')).port as number;
}

function frames(events: LogEvent[]): FrameEvent[] {
  return events.filter((e): e is FrameEvent => e.type === 'frame');
}

function runTool(
  file: string,
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv } = {},
) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      file,
      args,
      { timeout: 30_000, env: opts.env ?? process.env },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

describe('wscat', () => {
  beforeAll(() => {
    if (!fs.existsSync(WSCAT)) {
      throw new Error(
        `wscat is missing at ${WSCAT}: install it with "npm install" (it is a devDependency)`,
      );
    }
  });

  it('echoes over wss://localhost with --ca, and the frames are logged', async () => {
    await startWss();
    const r = await runTool(WSCAT, [
      '-c',
      `wss://localhost:${port}/`,
      '--ca',
      pki.caFile,
      '-x',
      'hello from wscat',
      '-w',
      '1',
    ]);
    expect(r.stderr).toBe('');
    // With -x wscat prints each received message on its own line.
    expect(r.stdout.trim().split('\n')).toEqual(['hello from wscat']);
    await waitFor(() => manager.log.events().some((e) => e.type === 'close'), 'close event');
    const events = manager.log.events();
    const open = events.find((e) => e.type === 'open');
    expect(open).toMatchObject({
      url: `wss://localhost:${port}/`,
      tls: { version: expect.stringMatching(/^TLSv1\.[23]$/) },
    });
    expect(
      frames(events)
        .filter((f) => f.opcode === 'text')
        .map((f) => [f.dir, f.preview, f.length]),
    ).toEqual([
      ['in', 'hello from wscat', 16],
      ['out', 'hello from wscat', 16],
    ]);
  });

  it('fails without our CA: the certificate is not trusted', async () => {
    await startWss();
    const r = await runTool(WSCAT, ['-c', `wss://localhost:${port}/`, '-x', 'x', '-w', '1'], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
    });
    expect(r.stdout + r.stderr).toMatch(/self[- ]signed|unable to (get|verify)|certificate/i);
    expect(frames(manager.log.events())).toEqual([]);
  });
});

const PY = String.raw`
import asyncio, json, ssl, sys
try:
    import websockets
except ImportError:
    print(json.dumps({"error": "python3-websockets missing"}))
    sys.exit(3)

async def main(url, ca):
    ctx = ssl.create_default_context(cafile=ca)
    out = {}
    async with websockets.connect(url, ssl=ctx) as ws:
        await ws.send("héllo from python")
        out["text"] = await ws.recv()
        await ws.send(bytes([0, 1, 2, 253, 254, 255]))
        b = await ws.recv()
        out["binary"] = b.hex() if isinstance(b, bytes) else "TEXT:" + b
        waiter = await ws.ping(b"ping-payload")
        await asyncio.wait_for(waiter, 5)
        out["pong"] = True
        await ws.close(code=4000, reason="bye from python")
        out["close_code"] = ws.close_code
        out["close_reason"] = ws.close_reason
    print(json.dumps(out))

asyncio.run(main(sys.argv[1], sys.argv[2]))
`;

describe('Python websockets', () => {
  beforeAll(() => {
    try {
      execFileSync(PYTHON, ['-c', 'import websockets'], { stdio: 'pipe' });
    } catch {
      throw new Error(
        `${PYTHON} cannot import websockets: install it with "apt install python3-websockets" (Debian package)`,
      );
    }
  });

  it('text, binary, ping with payload and close 4000 with a reason: exact echoes, all logged', async () => {
    await startWss();
    const r = await runTool(PYTHON, ['-c', PY, `wss://localhost:${port}/`, pki.caFile]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout);
    expect(got).toEqual({
      text: 'héllo from python',
      binary: '000102fdfeff',
      pong: true,
      close_code: 4000,
      close_reason: 'bye from python',
    });
    await waitFor(() => manager.log.events().some((e) => e.type === 'close'), 'close event');
    const events = manager.log.events();
    const open = events.find((e) => e.type === 'open');
    expect(open).toMatchObject({ type: 'open', userAgent: expect.stringMatching(/Python/) });
    const fs_ = frames(events).map((f) => ({
      dir: f.dir,
      opcode: f.opcode,
      length: f.length,
      preview:
        f.previewEncoding === 'base64'
          ? Buffer.from(f.preview, 'base64').toString('hex')
          : f.preview,
      closeCode: f.closeCode,
      closeReason: f.closeReason,
    }));
    const u = undefined;
    expect(fs_).toEqual([
      {
        dir: 'in',
        opcode: 'text',
        length: 18,
        preview: 'héllo from python',
        closeCode: u,
        closeReason: u,
      },
      {
        dir: 'out',
        opcode: 'text',
        length: 18,
        preview: 'héllo from python',
        closeCode: u,
        closeReason: u,
      },
      {
        dir: 'in',
        opcode: 'binary',
        length: 6,
        preview: '000102fdfeff',
        closeCode: u,
        closeReason: u,
      },
      {
        dir: 'out',
        opcode: 'binary',
        length: 6,
        preview: '000102fdfeff',
        closeCode: u,
        closeReason: u,
      },
      {
        dir: 'in',
        opcode: 'ping',
        length: 12,
        preview: Buffer.from('ping-payload').toString('hex'),
        closeCode: u,
        closeReason: u,
      },
      {
        dir: 'out',
        opcode: 'pong',
        length: 12,
        preview: Buffer.from('ping-payload').toString('hex'),
        closeCode: u,
        closeReason: u,
      },
      {
        dir: 'in',
        opcode: 'close',
        length: 17,
        preview: 'bye from python',
        closeCode: 4000,
        closeReason: 'bye from python',
      },
      {
        dir: 'out',
        opcode: 'close',
        length: 17,
        preview: 'bye from python',
        closeCode: 4000,
        closeReason: 'bye from python',
      },
    ]);
    const close = events.find((e) => e.type === 'close');
    expect(close).toMatchObject({
      code: 4000,
      reason: 'bye from python',
      by: 'client',
      clean: true,
    });
    // Times are increasing and carry sub-millisecond precision.
    const times = events.map((e) => e.time);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });
});
