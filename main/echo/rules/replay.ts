// Recorded sessions for replay: a HAR with `_webSocketMessages` (what Chrome DevTools saves: "send" is
// client->server, "receive" is server->client, time in seconds, opcode 1 text / 2 binary as base64), our own
// JSON Lines export (frame events; only text/binary frames count), or frame-log events picked in the UI.
import { inputError } from '../../../shared/errors';

export interface ReplayFrame {
  /** in: the client sent it (awaited with waitForClient); out: the server sent it (played). */
  dir: 'in' | 'out';
  /** Milliseconds, any origin: only the differences matter. */
  t: number;
  binary: boolean;
  data: Buffer;
}

export interface RecordedSession {
  /** "entries[2] wss://localhost:8443/echo" or "conn 7". */
  label: string;
  frames: ReplayFrame[];
}

const bad = (cause: string, hint: string) =>
  inputError('INVALID_RECORDING', 'read the recorded session', cause, { field: 'recording', hint });

/** Every WebSocket entry of a HAR, in file order. */
export function sessionsFromHar(text: string): RecordedSession[] {
  let har: unknown;
  try {
    har = JSON.parse(text);
  } catch (e) {
    throw bad(
      `it is not JSON (${(e as Error).message})`,
      'save the HAR again from DevTools > Network',
    );
  }
  const entries = (har as { log?: { entries?: unknown } })?.log?.entries;
  if (!Array.isArray(entries)) {
    throw bad('it has no "log.entries" list', 'give a HAR file (DevTools > Network > Export HAR)');
  }
  const out: RecordedSession[] = [];
  entries.forEach((e: unknown, i) => {
    const msgs = (e as { _webSocketMessages?: unknown })?._webSocketMessages;
    if (!Array.isArray(msgs)) return;
    const frames: ReplayFrame[] = [];
    for (const m of msgs as {
      type?: unknown;
      time?: unknown;
      opcode?: unknown;
      data?: unknown;
    }[]) {
      if ((m.type !== 'send' && m.type !== 'receive') || typeof m.time !== 'number') continue;
      if ((m.opcode !== 1 && m.opcode !== 2) || typeof m.data !== 'string') continue;
      const binary = m.opcode === 2;
      frames.push({
        dir: m.type === 'send' ? 'in' : 'out',
        t: m.time * 1000,
        binary,
        data: Buffer.from(m.data, binary ? 'base64' : 'utf8'),
      });
    }
    const url = (e as { request?: { url?: unknown } })?.request?.url;
    out.push({ label: `entries[${i}]${typeof url === 'string' ? ' ' + url : ''}`, frames });
  });
  if (out.length === 0) {
    throw bad(
      'it has no WebSocket entry with "_webSocketMessages"',
      'record with the DevTools Network panel open, select the WS filter, and export the HAR from there',
    );
  }
  return out;
}

interface FrameLike {
  type?: unknown;
  serverId?: unknown;
  conn?: unknown;
  dir?: unknown;
  opcode?: unknown;
  time?: unknown;
  preview?: unknown;
  previewEncoding?: unknown;
  truncated?: unknown;
}

/** One session per connection of frame events (our JSON Lines export or a selection of the live log). */
export function sessionsFromEvents(events: FrameLike[]): RecordedSession[] {
  const by = new Map<string, RecordedSession>();
  for (const e of events) {
    if (e.type !== 'frame' || (e.opcode !== 'text' && e.opcode !== 'binary')) continue;
    if (typeof e.time !== 'number' || typeof e.preview !== 'string') continue;
    const key = `${String(e.serverId)}#${String(e.conn)}`;
    let s = by.get(key);
    if (!s) by.set(key, (s = { label: `conn ${key}`, frames: [] }));
    s.frames.push({
      dir: e.dir === 'in' ? 'in' : 'out',
      t: e.time,
      binary: e.opcode === 'binary',
      data: Buffer.from(e.preview, e.previewEncoding === 'base64' ? 'base64' : 'utf8'),
    });
  }
  return [...by.values()];
}

export function sessionsFromJsonLines(text: string): RecordedSession[] {
  const events: FrameLike[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      events.push(JSON.parse(line) as FrameLike);
    } catch {
      throw bad(
        `line ${i + 1} is not JSON`,
        'give the file "Export JSONL" (or wss-studio serve --json) wrote',
      );
    }
  });
  const out = sessionsFromEvents(events);
  if (out.length === 0)
    throw bad('it holds no text or binary frame events', 'export a log with frames in it');
  return out;
}

/** Parse a recording: HAR when it is one JSON document with log.entries, else JSON Lines. */
export function parseRecording(text: string, format?: 'har' | 'jsonl'): RecordedSession[] {
  const f = format ?? (/^\s*\{\s*"log"\s*:/.test(text) ? 'har' : 'jsonl');
  return f === 'har' ? sessionsFromHar(text) : sessionsFromJsonLines(text);
}

/** The session to play: by index, else the first one that has server->client frames. */
export function pickSession(sessions: RecordedSession[], index?: number): RecordedSession {
  if (index !== undefined) {
    const s = sessions[index];
    if (!s) {
      throw bad(
        `there is no session ${index} (it has ${sessions.length})`,
        `pick one of: ${sessions.map((x, i) => `${i} ${x.label}`).join('; ')}`,
      );
    }
    return s;
  }
  const s = sessions.find((x) => x.frames.some((f) => f.dir === 'out'));
  if (!s)
    throw bad(
      'no session holds a server->client message',
      'record a session where the server sent something',
    );
  return s;
}
