// The echo fast path (connection.ts): a connection the behaviour would not act on skips it, and is switched
// back to the full path live when rules are set, a replay starts or faults come on, and then forth again.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FaultRegistry } from '../faults';
import { ServerManager } from './server-manager';
import type { FrameEvent, LogEvent } from './types';
import { waitFor } from './testing';

let manager: ServerManager | undefined;
const registry = new FaultRegistry();
const faults = () => registry.get('s', 'test').faults;
afterEach(async () => {
  await manager?.stopAll();
  manager = undefined;
});

async function open(): Promise<{ ws: WebSocket; got: string[] }> {
  manager = new ServerManager({ faults: registry });
  manager.add({ id: 's', scheme: 'ws' });
  const { url } = await manager.start('s');
  const ws = new WebSocket(url as string);
  const got: string[] = [];
  ws.on('message', (d: Buffer) => got.push(d.toString('utf8')));
  await new Promise((res, rej) => (ws.once('open', res), ws.once('error', rej)));
  return { ws, got };
}

/** Send one message and wait for the next `n` answers. */
async function ask(c: { ws: WebSocket; got: string[] }, text: string, n = 1): Promise<string[]> {
  const before = c.got.length;
  c.ws.send(text);
  await waitFor(() => c.got.length >= before + n, `${n} answer(s) to ${text}`);
  return c.got.slice(before);
}

function frames(): FrameEvent[] {
  manager?.log.flush();
  return (manager?.log.events() ?? []).filter((e: LogEvent): e is FrameEvent => e.type === 'frame');
}

describe('echo fast path', () => {
  it('rules set live apply to the next message, numbered from the first; cleared, echo resumes', async () => {
    const c = await open();
    expect(await ask(c, 'a')).toEqual(['a']);
    expect(await ask(c, 'b')).toEqual(['b']);
    manager!.behaviours.set('s', {
      rules: [
        { match: { messageNumber: 3 }, reply: { text: 'third is {{messageNumber}}' } },
        { match: { text: 'x' }, reply: { text: 'rule x' } },
      ],
    });
    expect(await ask(c, 'c')).toEqual(['third is 3']);
    expect(await ask(c, 'x')).toEqual(['rule x']);
    expect(await ask(c, 'y')).toEqual(['y']); // no rule matched: echoed on the full path
    manager!.behaviours.set('s', {});
    expect(await ask(c, 'x')).toEqual(['x']);
    const out = frames().filter((f) => f.dir === 'out' && f.opcode === 'text');
    expect(out.map((f) => [f.preview, f.source])).toEqual([
      ['a', undefined],
      ['b', undefined],
      ['third is 3', 'rule'],
      ['rule x', 'rule'],
      ['y', undefined],
      ['x', undefined],
    ]);
    // An echo on the fast path is logged exactly as one on the full path (but for seq, time, preview).
    const [full, fast] = [out[4]!, out[5]!];
    const same = (f: FrameEvent) => ({ ...f, seq: 0, time: 0, preview: '' });
    expect(same(fast)).toEqual(same(full));
    expect(fast).toMatchObject({ preview: 'x', length: 1, truncated: false });
  });

  it('a replay started on an echoing connection consumes its messages; echo resumes after it', async () => {
    const c = await open();
    expect(await ask(c, 'a')).toEqual(['a']);
    const conn = Math.max(...manager!.behaviours.get('s').connections());
    const r = manager!.behaviours.get('s').replay(
      conn,
      [
        { dir: 'in', t: 0, binary: false, data: Buffer.from('go') },
        { dir: 'out', t: 1, binary: false, data: Buffer.from('played') },
      ],
      { waitForClient: true },
    );
    // 'go' is the awaited client message, not echoed: the only answer is the played frame.
    expect(await ask(c, 'go')).toEqual(['played']);
    expect(await r.done).toEqual({ sent: 1, completed: true });
    expect(await ask(c, 'b')).toEqual(['b']);
    expect(c.got).toEqual(['a', 'played', 'b']);
  });

  it('faults set live hold the next echo; cleared, what was held goes first', async () => {
    const c = await open();
    expect(await ask(c, 'a')).toEqual(['a']);
    faults().set({ hold: true });
    c.ws.send('held');
    await waitFor(() => frames().some((f) => f.dir === 'in' && f.preview === 'held'), 'held in');
    await new Promise((res) => setTimeout(res, 50));
    expect(c.got).toEqual(['a']);
    faults().set({ hold: false });
    expect(await ask(c, 'b', 2)).toEqual(['held', 'b']);
  });
});
