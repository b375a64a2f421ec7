// GraphQL over WebSocket (the graphql-transport-ws protocol) answered by a rules file alone
// (examples/rules/graphql-transport-ws.json), proven with the protocol's own client library, graphql-ws:
// connection_init -> connection_ack by the on-connect script, subscribe -> next, next, complete by a rule,
// and the protocol's 4408 close when connection_init never comes.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { ServerManager } from '../main/echo/server-manager';
import type { FrameEvent } from '../main/echo/types';

const root = path.resolve(__dirname, '..');
const rules = JSON.parse(
  fs.readFileSync(path.join(root, 'examples/rules/graphql-transport-ws.json'), 'utf8'),
);

let manager: ServerManager | undefined;
afterEach(async () => {
  await manager?.stopAll();
  manager = undefined;
});

async function start(): Promise<string> {
  manager = new ServerManager();
  manager.add({ id: 'gql', scheme: 'ws', protocols: ['graphql-transport-ws'] });
  manager.behaviours.set('gql', rules);
  return (await manager.start('gql')).url as string;
}

describe('graphql-ws client against a rules file', () => {
  it('acks the connection and streams a subscription to completion', async () => {
    const url = await start();
    const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    const results: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: 'subscription { greeting }' },
        { next: (r) => void results.push(r), error: reject, complete: resolve },
      );
    });
    await client.dispose();
    expect(results).toEqual([
      { data: { greeting: expect.stringMatching(/^hello \d+$/) } },
      { data: { greeting: expect.stringMatching(/^hello \d+$/) } },
    ]);
    manager!.log.flush();
    const frames = manager!.log.events().filter((e): e is FrameEvent => e.type === 'frame');
    const open = manager!.log.events().find((e) => e.type === 'open');
    expect(open).toMatchObject({ protocol: 'graphql-transport-ws' });
    expect(frames.find((f) => f.source === 'script')?.preview).toBe('{"type":"connection_ack"}');
    const subscribe = frames.find((f) => f.dir === 'in' && f.preview.includes('"subscribe"'));
    const id = JSON.parse(subscribe?.preview ?? '{}').id;
    expect(frames.filter((f) => f.source === 'rule').map((f) => JSON.parse(f.preview))).toEqual([
      { id, type: 'next', payload: { data: { greeting: expect.any(String) } } },
      { id, type: 'next', payload: { data: { greeting: expect.any(String) } } },
      { id, type: 'complete' },
    ]);
  });

  it('closes 4408 when connection_init does not come in time (as graphql-ws servers do)', async () => {
    const url = await start();
    const ws = new WebSocket(url, 'graphql-transport-ws');
    const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, r) => resolve({ code, reason: r.toString() })),
    );
    expect(closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
  });

  it('closes 4429 on a second connection_init', async () => {
    const url = await start();
    const ws = new WebSocket(url, 'graphql-transport-ws');
    await new Promise((r) => ws.once('open', r));
    const got: string[] = [];
    ws.on('message', (d: Buffer) => got.push(d.toString()));
    ws.send('{"type":"connection_init"}');
    ws.send('{"type":"connection_init"}');
    const closed = await new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    expect(got).toEqual(['{"type":"connection_ack"}']);
    expect(closed).toBe(4429);
  });
});
