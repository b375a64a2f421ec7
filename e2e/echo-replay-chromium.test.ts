// Replay of a session recorded in Chromium. Chromium talks to our server (a rules file streams three
// messages with set gaps); the HAR is made from Chromium's own DevTools-protocol WebSocket frame events
// (Network.webSocketFrameSent/Received, the events DevTools' "Export HAR" writes as `_webSocketMessages`).
// That HAR is replayed through the contract request `replay.start` to a Python websockets client, which
// checks the messages and their spacing (tolerance below), at speed 1 and 2, waiting for the client.
import { execFile, execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { ServerManager } from '../main/echo/server-manager';
import type { FrameEvent } from '../main/echo/types';
import { Dispatcher } from '../main/engine/dispatch';
import { behaviourHandlers } from '../main/engine/handlers-behaviour';
import { waitFor } from '../main/echo/testing';
import { CHROMIUM_ARGS, CHROMIUM_PATH, requireTool, tempDir } from './helpers/tools';

const PYTHON = '/usr/bin/python3';
/**
 * Each gap between replayed messages, as sent (frame-log times), must be within this of the recorded gap
 * divided by the speed; as received by the Python client (its own scheduling and the loopback included,
 * on a machine running other suites in parallel), within CLIENT_TOLERANCE_MS.
 */
const TOLERANCE_MS = 60;
const CLIENT_TOLERANCE_MS = 100;

let browser: Browser;
let tmp: ReturnType<typeof tempDir>;
let manager: ServerManager;
let recordUrl: string;
let replayUrl: string;
let labUrl: string;

beforeAll(async () => {
  requireTool(CHROMIUM_PATH);
  try {
    execFileSync(PYTHON, ['-c', 'import websockets'], { stdio: 'pipe' });
  } catch {
    throw new Error(
      `${PYTHON} cannot import websockets: install it with "apt install python3-websockets"`,
    );
  }
  tmp = tempDir('wss-replay-');
  manager = new ServerManager();
  manager.add({ id: 'rec', scheme: 'ws' });
  manager.add({ id: 'play', scheme: 'ws', mode: 'silent' });
  manager.behaviours.set('rec', {
    rules: [
      {
        match: { text: 'start' },
        reply: [
          { json: { n: 1, at: '{{now.ms}}' } },
          { json: { n: 2 }, delayMs: 150 },
          { binary: 'cafe{{#randomInt}}10-10{{/randomInt}}', delayMs: 250 },
        ],
      },
    ],
  });
  const rec = await manager.start('rec');
  recordUrl = rec.url as string;
  labUrl = rec.labUrl as string;
  replayUrl = (await manager.start('play')).url as string;
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    env: { ...process.env, HOME: tmp.dir },
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await manager?.stopAll();
  tmp?.cleanup();
});

interface CdpFrame {
  requestId: string;
  timestamp: number;
  response: { opcode: number; payloadData: string };
}

/** Record in Chromium; return a HAR shaped like DevTools' export. */
async function recordInChromium(): Promise<unknown> {
  const page = await browser.newPage();
  const cdp = await page.context().newCDPSession(page);
  const msgs: { type: 'send' | 'receive'; time: number; opcode: number; data: string }[] = [];
  let url = '';
  let id = '';
  cdp.on('Network.webSocketCreated', (e: { url: string; requestId: string }) => {
    if (e.url !== recordUrl) return;
    url = e.url;
    id = e.requestId;
  });
  const add = (type: 'send' | 'receive') => (e: CdpFrame) => {
    if (e.requestId !== id) return;
    msgs.push({ type, time: e.timestamp, opcode: e.response.opcode, data: e.response.payloadData });
  };
  cdp.on('Network.webSocketFrameSent', add('send'));
  cdp.on('Network.webSocketFrameReceived', add('receive'));
  await cdp.send('Network.enable');
  // A document from our own loopback server (its 404 page: the lab page at / would open probe sockets).
  await page.goto(`${labUrl}record`);
  await page.evaluate(
    (u) =>
      new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(u);
        let n = 0;
        ws.onopen = () => ws.send('start');
        ws.onmessage = () => {
          if (++n === 3) {
            ws.close(1000);
            resolve();
          }
        };
        ws.onerror = () => reject(new Error('websocket error'));
      }),
    recordUrl,
  );
  await waitFor(() => msgs.filter((m) => m.type === 'receive').length === 3, 'CDP frames');
  await page.close();
  return {
    log: {
      version: '1.2',
      creator: { name: 'Chromium DevTools protocol', version: browser.version() },
      pages: [],
      entries: [{ request: { url }, _resourceType: 'websocket', _webSocketMessages: msgs }],
    },
  };
}

const PY = String.raw`
import asyncio, json, sys, time, websockets
async def main(url, n):
    async with websockets.connect(url) as ws:
        print(json.dumps({"ready": True}), flush=True)
        await asyncio.sleep(0.3)
        await ws.send("go")
        got = []
        for _ in range(int(n)):
            m = await asyncio.wait_for(ws.recv(), 10)
            got.append({"t": time.perf_counter() * 1000, "data": m.hex() if isinstance(m, bytes) else m})
    print(json.dumps({"got": got}), flush=True)
asyncio.run(main(sys.argv[1], sys.argv[2]))
`;

describe('replay of a Chromium-recorded session', () => {
  it.each([1, 2])(
    'plays the recorded messages with their timing at speed %d, after the client speaks',
    async (speed) => {
      const har = (await recordInChromium()) as {
        log: {
          entries: {
            _webSocketMessages: { type: string; time: number; data: string; opcode: number }[];
          }[];
        };
      };
      const recorded = har.log.entries[0]!._webSocketMessages.filter((m) => m.type === 'receive');
      expect(recorded.map((m) => m.opcode)).toEqual([1, 1, 2]);
      const recGaps = recorded.slice(1).map((m, i) => (m.time - recorded[i]!.time) * 1000);
      // The server sent them 150 ms apart (its timers never fire early); Chromium stamps receipt, which a
      // busy machine can compress (114 ms seen under CI load). What matters below is that a real gap was
      // recorded: the replay is compared with the recorded gaps, whatever they are.
      expect(recGaps[0]).toBeGreaterThan(50);

      const before = manager.log.total;
      let out = '';
      const child = execFile(PYTHON, ['-c', PY, replayUrl, '3'], { timeout: 30_000 });
      child.stdout?.on('data', (d: string) => (out += d));
      const exited = new Promise((r) => child.once('exit', r));
      await waitFor(() => out.includes('"ready"'), 'python connected');
      await waitFor(
        () =>
          manager.log
            .events({ after: before })
            .some((e) => e.type === 'open' && e.serverId === 'play'),
        'open event',
      );
      const conn = (
        manager.log
          .events({ after: before })
          .find((e) => e.type === 'open' && e.serverId === 'play') as { conn: number }
      ).conn;
      const api = new Dispatcher(behaviourHandlers(() => manager));
      const reply = await api.call(
        'replay.start',
        { serverId: 'play', conn, recording: JSON.stringify(har), speed, waitForClient: true },
        { shell: 'test' },
      );
      expect(reply).toMatchObject({ ok: true, result: { messages: 3, awaits: 1 } });
      await exited;
      const got = (
        JSON.parse(out.trim().split('\n').pop() as string) as { got: { t: number; data: string }[] }
      ).got;
      const recData = recorded.map((m) =>
        m.opcode === 2 ? Buffer.from(m.data, 'base64').toString('hex') : m.data,
      );
      expect(got.map((g) => g.data)).toEqual(recData);
      expect(recData[2]).toBe('cafe10');
      const gaps = got.slice(1).map((g, i) => g.t - got[i]!.t);
      console.log(
        `replay speed ${speed}: recorded gaps ${recGaps.map((g) => g.toFixed(1)).join(', ')} ms, replayed ${gaps.map((g) => g.toFixed(1)).join(', ')} ms`,
      );
      gaps.forEach((g, i) =>
        expect(Math.abs(g - (recGaps[i] as number) / speed)).toBeLessThan(CLIENT_TOLERANCE_MS),
      );
      manager.log.flush();
      const played = manager.log
        .events({ after: before })
        .filter((e): e is FrameEvent => e.type === 'frame' && e.source === 'replay');
      expect(played.map((f) => f.opcode)).toEqual(['text', 'text', 'binary']);
      const sentGaps = played.slice(1).map((f, i) => f.time - played[i]!.time);
      console.log(`  sent gaps (frame log) ${sentGaps.map((g) => g.toFixed(1)).join(', ')} ms`);
      sentGaps.forEach((g, i) =>
        expect(Math.abs(g - (recGaps[i] as number) / speed)).toBeLessThan(TOLERANCE_MS),
      );
    },
  );
});
