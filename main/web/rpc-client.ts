// One web-mode RPC client: every frame passes ./rpc.ts's shape check, every call ends in exactly one reply
// (an error reply at worst), and what the client may have queued is bounded: unsent reply bytes (over the
// cap: dropped with a logged reason), calls running at once (over: BUSY), frame-log pushes (skipped and
// counted as missed while the page is behind).
import { WebSocket } from 'ws';
import type { StreamName } from '../../shared/api';
import type { RpcServerMessage } from '../../shared/client';
import type { CallContext } from '../engine/dispatch';
import { parseRpcMessage, rpcError } from './rpc';
import type { ApiHost } from './server';

/** Frame-log pushes are skipped (and counted as missed) while a slow page has this much unsent. */
const MAX_BUFFERED = 4 * 1024 * 1024;

export interface RpcClientOptions {
  api: ApiHost;
  ctx: CallContext;
  limits: { rpcQueuedBytes: number; rpcInFlight: number };
  log: (line: string) => void;
}

export function serveRpcClient(ws: WebSocket, remote: string, o: RpcClientOptions): void {
  const subs = new Map<StreamName, () => void>();
  let missed = 0;
  let inFlight = 0;
  const who = `RPC client ${remote}`;
  const drop = (reason: string) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    o.log(`wss-studio: dropped ${who}: ${reason}`);
    ws.terminate();
  };
  // The one way out: a reply that would take this client's unsent bytes over the cap drops the client.
  const send = (m: RpcServerMessage) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    let text: string;
    try {
      text = JSON.stringify(m);
    } catch (e) {
      text = JSON.stringify(
        m.t === 'result'
          ? rpcError(m.id, 'INTERNAL', `the reply could not be encoded: ${String(e)}`)
          : rpcError(-1, 'INTERNAL', `a ${m.stream} event could not be encoded`),
      );
    }
    if (ws.bufferedAmount + text.length > o.limits.rpcQueuedBytes) {
      const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;
      return drop(
        `it does not read its replies (${mb(ws.bufferedAmount)} unsent, cap ${mb(o.limits.rpcQueuedBytes)})`,
      );
    }
    ws.send(text);
  };
  const onMessage = (raw: Buffer, isBinary: boolean) => {
    const p = isBinary
      ? ({ ok: false, id: -1, cause: 'binary frames are not RPC messages' } as const)
      : parseRpcMessage(raw.toString());
    if (!p.ok) return send(rpcError(p.id, 'BAD_MESSAGE', p.cause));
    const m = p.msg;
    if (m.t === 'call') {
      if (inFlight >= o.limits.rpcInFlight) {
        return send(
          rpcError(m.id, 'BUSY', `${inFlight} calls are still running`, 'wait for replies'),
        );
      }
      inFlight++;
      const id = m.id;
      // Start each call on its own turn: ws emits every frame of a TCP chunk at once, and a synchronous
      // handler's result is then encoded and queued (or the client dropped) before the next call runs,
      // so 20 pipelined log.snapshot calls never build 20 results side by side.
      setImmediate(() => {
        if (ws.readyState !== WebSocket.OPEN) return void inFlight--;
        void Promise.resolve()
          .then(() => o.api.call(m.name, m.input, o.ctx))
          .then(
            (r) => send({ t: 'result', id, ...r }),
            (e: unknown) => {
              o.log(`wss-studio: request ${JSON.stringify(m.name)} failed: ${String(e)}`);
              send(rpcError(id, 'INTERNAL', `the request failed: ${String(e).slice(0, 200)}`));
            },
          )
          .finally(() => inFlight--);
      });
    } else if (m.t === 'sub') {
      const stream = m.stream;
      if (subs.has(stream)) return;
      subs.set(
        stream,
        o.api.subscribe(stream, (data) => {
          if (stream === 'log.batch') {
            if (ws.bufferedAmount > MAX_BUFFERED) {
              missed += (data as { events: unknown[] }).events.length;
              return;
            }
            if (missed) {
              const d = data as { missed: number };
              data = { ...d, missed: d.missed + missed };
              missed = 0;
            }
          }
          send({ t: 'event', stream, data });
        }),
      );
    } else {
      subs.get(m.stream)?.();
      subs.delete(m.stream);
    }
  };
  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    try {
      onMessage(raw, isBinary);
    } catch (e) {
      // Nothing above should throw; if it does, this client's message fails, not the process.
      o.log(`wss-studio: ${who}: message handling failed: ${String(e)}`);
      send(rpcError(-1, 'INTERNAL', 'the message could not be handled'));
    }
  });
  ws.on('close', () => {
    for (const off of subs.values()) off();
    subs.clear();
  });
  ws.on('error', () => {});
}
