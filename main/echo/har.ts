// HAR export of the frame log. Chrome DevTools (Network panel, "Import HAR file") shows WebSocket traffic from
// entries whose `_resourceType` is "websocket" and that carry `_webSocketMessages` ({type, time, opcode, data}),
// the same shape Chrome itself writes when exporting a HAR. Directions are from the client's point of view:
// a frame the client sent to our server is "send", our echo is "receive". Payloads are the logged previews
// (first 4 KiB); binary data is base64, as Chrome writes it.
import type { FrameEvent, LogEvent, OpenEvent } from './types';
import { VERSION } from '../../shared/version';

export interface HarMessage {
  type: 'send' | 'receive';
  /** Seconds since the epoch. */
  time: number;
  opcode: 1 | 2;
  data: string;
}

interface HarEntry {
  startedDateTime: string;
  time: number;
  request: Record<string, unknown>;
  response: Record<string, unknown>;
  cache: Record<string, never>;
  timings: { send: number; wait: number; receive: number };
  serverIPAddress?: string;
  connection?: string;
  _resourceType: 'websocket';
  _webSocketMessages: HarMessage[];
}

export interface Har {
  log: {
    version: '1.2';
    creator: { name: string; version: string };
    pages: never[];
    entries: HarEntry[];
  };
}

/**
 * `urlFor(serverId)`: the server's own ws(s):// URL, used for a connection whose open event the ring
 * overwrote (its path is the server's, not necessarily the one the client asked for).
 */
export function toHar(events: LogEvent[], urlFor?: (serverId: string) => string | undefined): Har {
  const entries = new Map<
    string,
    { open?: OpenEvent; serverId: string; conn: number; first: number; msgs: HarMessage[] }
  >();
  const key = (e: { serverId: string; conn: number }) => `${e.serverId}#${e.conn}`;
  for (const e of events) {
    if (e.type === 'open') {
      entries.set(key(e), {
        open: e,
        serverId: e.serverId,
        conn: e.conn,
        first: e.time,
        msgs: [],
      });
    } else if (e.type === 'frame' && (e.opcode === 'text' || e.opcode === 'binary')) {
      let entry = entries.get(key(e));
      if (!entry) {
        // The open event was overwritten in the ring: keep the frames under an entry without request details.
        entry = { serverId: e.serverId, conn: e.conn, first: e.time, msgs: [] };
        entries.set(key(e), entry);
      }
      entry.msgs.push(harMessage(e));
    }
  }
  const out: HarEntry[] = [];
  for (const v of entries.values()) {
    // The WebSocket URL itself (ws:// or wss://), as Chrome writes it for a WebSocket entry.
    const url = v.open?.url ?? urlFor?.(v.serverId) ?? `ws://${v.serverId}.invalid/`;
    const headers: { name: string; value: string }[] = [];
    if (v.open?.origin) headers.push({ name: 'Origin', value: v.open.origin });
    if (v.open?.userAgent) headers.push({ name: 'User-Agent', value: v.open.userAgent });
    if (v.open?.requestedProtocols.length) {
      headers.push({ name: 'Sec-WebSocket-Protocol', value: v.open.requestedProtocols.join(', ') });
    }
    const resHeaders: { name: string; value: string }[] = [
      { name: 'Upgrade', value: 'websocket' },
      { name: 'Connection', value: 'Upgrade' },
    ];
    if (v.open?.protocol)
      resHeaders.push({ name: 'Sec-WebSocket-Protocol', value: v.open.protocol });
    if (v.open?.extensions)
      resHeaders.push({ name: 'Sec-WebSocket-Extensions', value: v.open.extensions });
    const last = v.msgs.length ? (v.msgs[v.msgs.length - 1] as HarMessage).time * 1000 : v.first;
    out.push({
      startedDateTime: new Date(v.first).toISOString(),
      time: Math.max(0, last - v.first),
      request: {
        method: 'GET',
        url,
        httpVersion: 'HTTP/1.1',
        headers,
        queryString: [],
        cookies: [],
        headersSize: -1,
        bodySize: 0,
      },
      response: {
        status: 101,
        statusText: 'Switching Protocols',
        httpVersion: 'HTTP/1.1',
        headers: resHeaders,
        cookies: [],
        content: { size: 0, mimeType: 'x-unknown' },
        redirectURL: '',
        headersSize: -1,
        bodySize: 0,
      },
      cache: {},
      timings: { send: 0, wait: 0, receive: 0 },
      connection: String(v.conn),
      ...(v.open ? { serverIPAddress: v.open.remoteAddress } : {}),
      _resourceType: 'websocket',
      _webSocketMessages: v.msgs,
    });
  }
  return {
    log: {
      version: '1.2',
      creator: { name: 'WSS Studio', version: VERSION },
      pages: [],
      entries: out,
    },
  };
}

function harMessage(e: FrameEvent): HarMessage {
  return {
    type: e.dir === 'in' ? 'send' : 'receive',
    time: e.time / 1000,
    opcode: e.opcode === 'text' ? 1 : 2,
    data: e.preview,
  };
}
