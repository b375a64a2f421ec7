// Message-level faults, one mechanism for proxies and echo servers: added latency (fixed plus
// jitter), dropping a fraction of messages per direction, hold (stop forwarding without closing: a half-open
// connection) and release, refusing new upgrades with an HTTP status, and throttling bandwidth. Closing
// connections with a chosen code is done by the owner (it knows its sockets) through FaultTarget.
//
// Each connection direction is a Lane: messages enter with push() and leave, in order, through the lane's
// deliver function. With no fault in force and nothing queued, push() delivers synchronously, so a server
// without faults pays one branch per message. Every applied fault is logged as a `fault` event so the
// timeline explains what the client saw.
import type { FrameLog } from '../echo/frame-log';
import type { FaultEvent } from '../echo/types';
import { NO_FAULTS, type FaultSettings } from '../../shared/api';

export { NO_FAULTS } from '../../shared/api';
export type { FaultSettings } from '../../shared/api';
import type { FrameEventDto } from '../../shared/api';

/** Bytes a lane may hold (latency, hold, throttle) before it asks its source to stop reading. */
export const LANE_HIGH_WATER = 8 * 1024 * 1024;

/** in: client -> server/target; out: server/target -> client (the frame log's directions). */
export type Dir = 'in' | 'out';

/** What a lane carries: a message, or the close that must follow the messages before it. */
export type LaneItem =
  | {
      kind: 'message';
      data: Buffer;
      binary: boolean;
      /** Sent by the server on its own (rule, script, push, injected, replay): logged with it. */
      source?: FrameEventDto['source'];
      note?: string;
    }
  | { kind: 'close'; code: number; reason: string };

interface Queued {
  item: LaneItem;
  size: number;
  due: number;
}

/** One line describing the settings, for the log and the CLI. */
export function describeFaults(s: FaultSettings): string {
  const parts: string[] = [];
  if (s.latencyMs || s.jitterMs)
    parts.push(`latency ${s.latencyMs} ms + 0..${s.jitterMs} ms jitter`);
  if (s.dropIn) parts.push(`drop ${fmtPct(s.dropIn)} client->server`);
  if (s.dropOut) parts.push(`drop ${fmtPct(s.dropOut)} server->client`);
  if (s.hold) parts.push('hold (nothing forwarded)');
  if (s.refuseStatus !== null) parts.push(`refuse new upgrades with HTTP ${s.refuseStatus}`);
  if (s.bandwidth !== null) parts.push(`throttle ${s.bandwidth} B/s per direction`);
  return parts.length ? parts.join(', ') : 'no faults';
}

const fmtPct = (f: number) => `${Math.round(f * 1000) / 10}%`;

type NewFault = Omit<FaultEvent, 'seq' | 'time'>;

/** The faults of one server or proxy, and the lanes of its connections. */
export class FaultController {
  private s: FaultSettings = { ...NO_FAULTS };
  private readonly lanes = new Set<Lane>();
  /** Whether any per-message fault is in force: settled on each set(), read on every message. */
  private isActive = false;

  constructor(
    readonly serverId: string,
    private readonly log: FrameLog,
    /** Injectable for tests (statistical drops with a fixed sequence). */
    readonly random: () => number = Math.random,
  ) {}

  get settings(): FaultSettings {
    return { ...this.s };
  }

  /** True when any per-message fault is in force (lanes take their slow path). */
  get active(): boolean {
    return this.isActive;
  }

  private static anyActive(s: FaultSettings): boolean {
    return (
      s.hold ||
      s.latencyMs > 0 ||
      s.jitterMs > 0 ||
      s.bandwidth !== null ||
      s.dropIn > 0 ||
      s.dropOut > 0
    );
  }

  /** Change faults live; omitted fields keep their value. Releasing a hold delivers what was queued. */
  set(patch: Partial<FaultSettings>): FaultSettings {
    const before = this.s;
    const next: FaultSettings = { ...before };
    for (const k of Object.keys(NO_FAULTS) as (keyof FaultSettings)[]) {
      if (patch[k] !== undefined) (next as unknown as Record<string, unknown>)[k] = patch[k];
    }
    // Nothing changed (a stop clearing faults that were never set): no event.
    if ((Object.keys(NO_FAULTS) as (keyof FaultSettings)[]).every((k) => before[k] === next[k])) {
      return this.settings;
    }
    this.s = next;
    this.isActive = FaultController.anyActive(next);
    this.note({ fault: 'settings', message: `faults set to: ${describeFaults(next)}` });
    if (before.hold && !next.hold) {
      let n = 0;
      for (const lane of this.lanes) n += lane.queued;
      this.note({
        fault: 'release',
        message: `hold released: ${n} queued message(s) delivered in order`,
      });
    } else if (!before.hold && next.hold) {
      this.note({
        fault: 'hold',
        message: 'hold: messages are queued, not forwarded, until released',
      });
    }
    for (const lane of this.lanes) lane.reschedule();
    return this.settings;
  }

  /** The HTTP status to refuse a new upgrade with (logged), or null to accept it. */
  refuseUpgrade(path: string): number | null {
    const status = this.s.refuseStatus;
    if (status === null) return null;
    this.note({
      fault: 'refuse',
      message: `upgrade to ${JSON.stringify(path)} refused with HTTP ${status}`,
    });
    return status;
  }

  /** Log a fault applied by the owner (a forced close). */
  note(e: Omit<NewFault, 'type' | 'serverId'>): void {
    this.log.add({ type: 'fault', serverId: this.serverId, ...e });
  }

  /**
   * A lane for one connection direction. `deliver` sends one item on; `pressure(true)` asks the source to
   * stop reading (the lane holds more than LANE_HIGH_WATER bytes), `pressure(false)` to go on.
   */
  lane(
    conn: number,
    dir: Dir,
    deliver: (item: LaneItem) => void,
    pressure: (over: boolean) => void = () => {},
  ): Lane {
    const lane = new Lane(this, conn, dir, deliver, pressure, () => this.lanes.delete(lane));
    this.lanes.add(lane);
    return lane;
  }
}

export class Lane {
  private readonly q: Queued[] = [];
  private head = 0;
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastDue = 0;
  private wireFree = 0;
  private over = false;
  private closed = false;

  constructor(
    private readonly ctrl: FaultController,
    readonly conn: number,
    readonly dir: Dir,
    private readonly deliver: (item: LaneItem) => void,
    private readonly pressure: (over: boolean) => void,
    private readonly onDispose: () => void,
  ) {}

  /** No fault in force and nothing queued: the owner may deliver directly, in order, without push(). */
  get passThrough(): boolean {
    return this.head >= this.q.length && !this.ctrl.active;
  }

  /** Messages waiting in this lane. */
  get queued(): number {
    return this.q.length - this.head;
  }

  /** Bytes waiting in this lane. */
  get queuedBytes(): number {
    return this.bytes;
  }

  /** A message or a close enters the lane; it leaves in order, delayed/held/throttled as configured. */
  push(item: LaneItem): void {
    if (this.closed) return;
    const ctrl = this.ctrl;
    if (!ctrl.active && this.queued === 0) return this.deliver(item);
    const s = ctrl.settings;
    const size = item.kind === 'message' ? item.data.length : 0;
    if (item.kind === 'message') {
      const drop = this.dir === 'in' ? s.dropIn : s.dropOut;
      if (drop > 0 && ctrl.random() < drop) {
        ctrl.note({
          fault: 'drop',
          conn: this.conn,
          dir: this.dir,
          message: `dropped a ${size} B ${item.binary ? 'binary' : 'text'} message ${this.dir === 'in' ? 'client->server' : 'server->client'}`,
        });
        return;
      }
    }
    const t = performance.now();
    let due = t + s.latencyMs + (s.jitterMs > 0 ? ctrl.random() * s.jitterMs : 0);
    // Order is kept: a message never overtakes the one before it, whatever its jitter.
    due = Math.max(due, this.lastDue);
    if (s.bandwidth !== null && size > 0) {
      const start = Math.max(due, this.wireFree);
      this.wireFree = start + (size * 1000) / s.bandwidth;
      due = this.wireFree;
    }
    this.lastDue = due;
    this.q.push({ item, size, due });
    this.bytes += size;
    if (!this.over && this.bytes > LANE_HIGH_WATER) {
      this.over = true;
      this.pressure(true);
    }
    this.pump();
  }

  /** Settings changed (release, latency removed): deliver what is due now and re-arm the timer. */
  reschedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pump();
  }

  /** Forget everything queued (the connection is gone). */
  dispose(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.q.length = 0;
    this.head = 0;
    this.bytes = 0;
    this.onDispose();
  }

  private pump(): void {
    if (this.closed || this.timer) return;
    if (this.ctrl.settings.hold) return;
    const t = performance.now();
    while (this.head < this.q.length) {
      const next = this.q[this.head] as Queued;
      if (next.due > t + 0.5) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, next.due - t);
        return;
      }
      this.q[this.head++] = undefined as unknown as Queued;
      this.bytes -= next.size;
      this.deliver(next.item);
      if (this.closed) return;
    }
    this.q.length = 0;
    this.head = 0;
    if (this.over && this.bytes <= LANE_HIGH_WATER / 2) {
      this.over = false;
      this.pressure(false);
    }
  }
}
