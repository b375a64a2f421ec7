// Replay from the frame log: which events a selection covers and which connections could receive it.
// Pure (no runes), unit-tested in e2e/ui-rules-units.test.ts. The engine replays a range of one
// connection's events (`replay.start` with logConn, fromSeq, toSeq): the server->client messages are
// played, the client->server ones can be awaited.
import type { LogRow } from './log-rows';

export interface ReplaySelection {
  serverId: string;
  /** The recorded connection (log number). */
  conn: number;
  fromSeq: number;
  toSeq: number;
  /** Text/binary messages of that connection in the range, by direction. */
  out: number;
  in: number;
}

const isMessage = (r: LogRow) =>
  r.type === 'frame' && (r.opcode === 'text' || r.opcode === 'binary');

/**
 * The selection from an anchor row to an end row (either order; end null = the anchor alone): the range
 * of the anchor's connection. Null when the anchor is not a connection's event.
 */
export function replaySelection(
  rows: readonly LogRow[],
  anchorSeq: number | null,
  endSeq: number | null,
): ReplaySelection | null {
  if (anchorSeq === null) return null;
  const anchor = rows.find((r) => r.seq === anchorSeq);
  if (!anchor || !anchor.conn) return null;
  const end = endSeq ?? anchorSeq;
  const fromSeq = Math.min(anchorSeq, end);
  const toSeq = Math.max(anchorSeq, end);
  let out = 0;
  let inn = 0;
  for (const r of rows) {
    if (r.seq < fromSeq || r.seq > toSeq) continue;
    if (r.serverId !== anchor.serverId || r.conn !== anchor.conn || !isMessage(r)) continue;
    if (r.dir === 'out') out++;
    else inn++;
  }
  return { serverId: anchor.serverId, conn: Number(anchor.conn), fromSeq, toSeq, out, in: inn };
}

/** Is this row part of the selection (same connection, within the range)? */
export function inSelection(r: LogRow, s: ReplaySelection | null): boolean {
  return (
    s !== null &&
    r.serverId === s.serverId &&
    r.conn === String(s.conn) &&
    r.seq >= s.fromSeq &&
    r.seq <= s.toSeq
  );
}

/** Connections of a server still open as far as the rows show (an open event and no close yet), newest first. */
export function openConnections(rows: readonly LogRow[], serverId: string): number[] {
  const open = new Set<string>();
  for (const r of rows) {
    if (r.serverId !== serverId || !r.conn) continue;
    if (r.type === 'open') open.add(r.conn);
    else if (r.type === 'close') open.delete(r.conn);
  }
  return [...open].map(Number).sort((a, b) => b - a);
}
