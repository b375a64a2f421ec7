// Over 400 lines: rules, scripts, pushes and replay share one per-connection state and one send path through the faults.
// One server's behaviour beyond its mode: ordered rules (first match wins), on-connect scripts, periodic
// pushes, manual pushes and replays. Created once per server id by the ServerManager and handed to each
// EchoServer start through the Behaviour seam (peer.ts). Rules can be swapped at any time: setRules()
// takes an already validated document (shared/rules.ts checkRules), so a bad document never reaches here.
import { performance } from 'node:perf_hooks';
import { inputError, q } from '../../../shared/errors';
import type {
  Push,
  RuleClose,
  RuleMessage,
  RulesFile,
  Rule,
  ScriptStep,
} from '../../../shared/rules';
import type { FrameLog } from '../frame-log';
import type { EchoMode } from '../types';
import { compileConnMatch, compileMatch, MessageView, type ConnFacts } from './match';
import { RuleSet, type ConnMatcher } from './rule-set';
import type { Behaviour, FrameSource, MessageOutcome, Peer } from './peer';
import { TemplateError, Templates } from './template';
import type { ReplayFrame } from './replay';
import type { PushStatusDto as PushStatus } from '../../../shared/api';

interface CompiledRule {
  index: number;
  rule: Rule;
  when?: Rule['match'];
  replies: RuleMessage[];
}

interface CompiledScript {
  index: number;
  match: (c: ConnFacts) => boolean;
  steps: { step: ScriptStep; wait?: (c: ConnFacts, m: MessageView) => boolean }[];
}

interface PeerState {
  peer: Peer;
  facts: ConnFacts;
  query: Record<string, string>;
  headers: Record<string, string>;
  counter: number;
  /** An on-connect script matched (its waits and sends need every message and `last`). */
  scripted: boolean;
  timers: Set<NodeJS.Timeout>;
  /** The rules that apply to this connection, for the rule set they were taken from. */
  matcher?: ConnMatcher<CompiledRule>;
  matcherOf?: RuleSet<CompiledRule>;
  last?: MessageView;
  /** A script step waiting for a message. */
  waiter?: { match: (c: ConnFacts, m: MessageView) => boolean; done: (ok: boolean) => void };
  /** A replay running on this connection (client messages are consumed, not echoed). */
  replay?: { id: string; onClientMessage?: () => void };
}

/** A push's counts on the wire (push.list / push.start / push.stop). */
export type { PushStatus };

interface RunningPush {
  push: Push;
  timer?: NodeJS.Timeout;
  start: number;
  ticks: number;
  sent: number;
  skipped: number;
}

export interface TryInput {
  data: Buffer;
  isBinary: boolean;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  protocol?: string;
  connection?: number;
  messageNumber?: number;
}

export interface TrySend {
  to: 'sender' | 'all' | 'others';
  delayMs: number;
  opcode: 'text' | 'binary';
  text?: string;
  dataBase64?: string;
}

export interface TryResult {
  /** Index of the first matching rule, or null: the server's mode handles the message. */
  rule: number | null;
  name?: string;
  /** handled: nothing else happens; echo/broadcast/silent: that mode runs (after the rule's sends). */
  outcome: MessageOutcome;
  sends: TrySend[];
  close?: { code: number; reason: string; delayMs: number };
  errors: string[];
}

export const DEFAULT_TIMEOUT_CLOSE: RuleClose = { code: 4408, reason: 'timeout' };

export class ServerBehaviour implements Behaviour {
  private doc: RulesFile = {};
  private rules = new RuleSet<CompiledRule>([]);
  private scripts: CompiledScript[] = [];
  private readonly templates = new Templates();
  private readonly peers = new Map<number, PeerState>();
  private readonly pushes = new Map<string, RunningPush>();
  private running = false;
  private replaySeq = 0;
  /** See Behaviour.version: bumped when passive() may change (rules swapped, replay start or end). */
  version = 0;

  constructor(
    readonly serverId: string,
    private readonly log: FrameLog,
    /** The server's mode, for "try a message" when no rule matches. */
    private readonly mode: () => EchoMode,
  ) {}

  get document(): RulesFile {
    return this.doc;
  }

  /** Swap the rules (validated already). Pushes defined by the old document keep running until stopped. */
  setRules(doc: RulesFile): void {
    this.doc = doc;
    this.templates.clear();
    this.rules = compileRules(doc);
    this.version++;
    this.scripts = (doc.onConnect ?? []).map((s, index) => ({
      index,
      match: compileConnMatch(s.match),
      steps: s.steps.map((step) =>
        'wait' in step ? { step, wait: compileMatch(step.wait) } : { step },
      ),
    }));
    if (this.running) this.autoStart();
  }

  // --- seam --------------------------------------------------------------------------------------------

  connected(peer: Peer): void {
    const query: Record<string, string> = {};
    for (const [k, v] of peer.query) query[k] ??= v;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(peer.headers)) {
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    const st: PeerState = {
      peer,
      facts: {
        index: peer.index,
        path: peer.path,
        query: peer.query,
        headers: peer.headers,
        protocol: peer.protocol,
      },
      query,
      headers,
      counter: 0,
      scripted: false,
      timers: new Set(),
    };
    this.peers.set(peer.conn, st);
    const script = this.scripts.find((s) => s.match(st.facts));
    if (script) {
      st.scripted = true;
      this.runScript(st, script);
    }
  }

  message(peer: Peer, data: Buffer, isBinary: boolean, n: number): MessageOutcome | undefined {
    const st = this.peers.get(peer.conn);
    if (!st) return undefined;
    const mv = new MessageView(data, isBinary, n);
    st.last = mv;
    if (st.waiter && st.waiter.match(st.facts, mv)) {
      const w = st.waiter;
      st.waiter = undefined;
      w.done(true);
      return 'handled';
    }
    if (st.replay) {
      st.replay.onClientMessage?.();
      return 'handled';
    }
    const r = this.matcher(st).first(mv);
    return r ? this.fire(r, st, mv) : undefined;
  }

  passive(peer: Peer): boolean {
    const st = this.peers.get(peer.conn);
    if (!st) return true;
    return !st.scripted && !st.waiter && !st.replay && this.matcher(st).empty;
  }

  /** The rules that apply to this connection: settled once per connection and rule set, not per message. */
  private matcher(st: PeerState): ConnMatcher<CompiledRule> {
    if (st.matcherOf !== this.rules || !st.matcher) {
      st.matcherOf = this.rules;
      st.matcher = this.rules.forConnection(st.facts);
    }
    return st.matcher;
  }

  disconnected(peer: Peer): void {
    const st = this.peers.get(peer.conn);
    if (!st) return;
    this.peers.delete(peer.conn);
    for (const t of st.timers) clearTimeout(t);
    st.timers.clear();
    st.waiter = undefined;
    st.replay = undefined;
  }

  /** The server started: pushes with autoStart begin. */
  started(): void {
    this.running = true;
    this.autoStart();
  }

  /** The server stopped: every push stops (their definitions stay). */
  stopped(): void {
    this.running = false;
    for (const id of [...this.pushes.keys()]) this.stopPush(id);
  }

  /** Open connections (log numbers). */
  connections(): number[] {
    return [...this.peers.keys()];
  }

  // --- rules -------------------------------------------------------------------------------------------

  private fire(r: CompiledRule, st: PeerState, mv: MessageView): MessageOutcome | undefined {
    const where = `rules[${r.index}]`;
    const note = r.rule.name ? `${where} ${r.rule.name}` : where;
    let at = 0;
    r.replies.forEach((m, i) => {
      at += m.delayMs ?? 0;
      const field = Array.isArray(r.rule.reply) ? `${where}.reply[${i}]` : `${where}.reply`;
      this.later(st, at, () => this.emit(st, m, mv, 'rule', note, field));
    });
    const close = r.rule.close;
    if (close) this.later(st, at + (close.delayMs ?? 0), () => closePeer(st.peer, close));
    if (r.rule.fallThrough === true) return undefined;
    if (r.rule.fallThrough) return r.rule.fallThrough;
    return 'handled';
  }

  /** Run now when the delay is 0 (keeps replies in order with the echo path), else on a tracked timer. */
  private later(st: PeerState, ms: number, fn: () => void): void {
    if (ms <= 0) return fn();
    const t = setTimeout(() => {
      st.timers.delete(t);
      fn();
    }, ms);
    st.timers.add(t);
  }

  private sleep(st: PeerState, ms: number): Promise<void> {
    return new Promise((resolve) => this.later(st, ms, resolve));
  }

  /** Render one message for a connection. Throws TemplateError. */
  private render(
    st: PeerState | undefined,
    m: RuleMessage,
    mv: MessageView | undefined,
    counter: number,
  ): { data: Buffer; binary: boolean } {
    const view = this.templates.view({
      conn: st?.peer.conn ?? 0,
      connection: st?.peer.index ?? 0,
      path: st?.peer.path ?? '',
      query: st?.query ?? {},
      headers: st?.headers ?? {},
      protocol: st?.peer.protocol ?? '',
      messageNumber: mv?.messageNumber ?? 0,
      counter,
      ...(mv ? { message: { data: mv.data, isBinary: mv.isBinary, json: () => mv.json() } } : {}),
    });
    if (m.text !== undefined)
      return { data: Buffer.from(this.templates.text(m.text, view)), binary: false };
    if (m.binary !== undefined)
      return { data: this.templates.binary(m.binary, view), binary: true };
    return { data: Buffer.from(this.templates.json(m.json, view)), binary: false };
  }

  private targets(st: PeerState, to: RuleMessage['to']): PeerState[] {
    if (to === 'all') return [...this.peers.values()];
    if (to === 'others') return [...this.peers.values()].filter((p) => p !== st);
    return [st];
  }

  /** Render (once, with the sender's view) and send to the message's targets; template errors are logged. */
  private emit(
    st: PeerState,
    m: RuleMessage,
    mv: MessageView | undefined,
    source: FrameSource,
    note: string,
    field: string,
  ): void {
    if (!st.peer.open) return;
    let out: { data: Buffer; binary: boolean };
    try {
      out = this.render(st, m, mv, ++st.counter);
    } catch (e) {
      return this.templateFailed(st.peer.conn, field, m, e);
    }
    for (const t of this.targets(st, m.to)) {
      if (t !== st) t.counter++;
      t.peer.send(out.data, out.binary, source, note);
    }
  }

  private templateFailed(
    conn: number | undefined,
    field: string,
    m: RuleMessage,
    e: unknown,
  ): void {
    const kind = m.text !== undefined ? 'text' : m.binary !== undefined ? 'binary' : 'json';
    this.log.add({
      type: 'error',
      serverId: this.serverId,
      ...(conn !== undefined ? { conn } : {}),
      code: 'TEMPLATE_FAILED',
      message: `${field}.${kind}: ${e instanceof TemplateError ? e.message : String(e)} (nothing was sent; fix the template)`,
    });
  }

  // --- scripts -----------------------------------------------------------------------------------------

  /**
   * Steps run synchronously up to the next wait or delay, and a matched wait continues synchronously
   * inside message(): a reply the script sends after a wait goes out before the client's next message is
   * looked at (graphql-ws: connection_ack precedes the answer to whatever follows connection_init).
   */
  private runScript(st: PeerState, s: CompiledScript, from = 0): void {
    const where = `onConnect[${s.index}]`;
    for (let i = from; i < s.steps.length; i++) {
      if (!st.peer.open) return;
      const { step, wait } = s.steps[i] as CompiledScript['steps'][number];
      const field = `${where}.steps[${i}]`;
      const next = i + 1;
      if ('send' in step) {
        const send = () => this.emit(st, step.send, st.last, 'script', field, `${field}.send`);
        if (!step.send.delayMs) {
          send();
          continue;
        }
        return this.later(st, step.send.delayMs, () => {
          send();
          this.runScript(st, s, next);
        });
      }
      if ('wait' in step && wait) {
        const waiter: NonNullable<PeerState['waiter']> = {
          match: wait,
          done: (ok) => {
            if (ok) return this.runScript(st, s, next);
            const t = step.onTimeout ?? { close: DEFAULT_TIMEOUT_CLOSE };
            this.log.add({
              type: 'error',
              serverId: this.serverId,
              conn: st.peer.conn,
              code: 'SCRIPT_TIMEOUT',
              message: `${field}: no matching message within ${step.timeoutMs} ms; ${
                t === 'continue'
                  ? 'continuing'
                  : 'send' in t
                    ? 'sending the timeout message'
                    : 'closing'
              }`,
            });
            if (t === 'continue') return this.runScript(st, s, next);
            if ('send' in t) {
              this.emit(st, t.send, st.last, 'script', field, `${field}.onTimeout.send`);
              return this.runScript(st, s, next);
            }
            const c = { ...DEFAULT_TIMEOUT_CLOSE, ...t.close };
            this.later(st, c.delayMs ?? 0, () => closePeer(st.peer, c));
          },
        };
        st.waiter = waiter;
        this.later(st, step.timeoutMs, () => {
          if (st.waiter !== waiter) return;
          st.waiter = undefined;
          waiter.done(false);
        });
        return;
      }
      if ('delayMs' in step) return this.later(st, step.delayMs, () => this.runScript(st, s, next));
      if ('close' in step) {
        const c = step.close;
        return this.later(st, c.delayMs ?? 0, () => closePeer(st.peer, c));
      }
    }
  }

  // --- pushes ------------------------------------------------------------------------------------------

  private autoStart(): void {
    for (const p of this.doc.pushes ?? [])
      if (p.autoStart && !this.pushes.has(p.id)) this.startPush(p);
  }

  /** Start a push: one of the document's (by id) or a definition given now. */
  startPush(push: string | Push): PushStatus {
    const def =
      typeof push === 'string' ? (this.doc.pushes ?? []).find((p) => p.id === push) : push;
    if (!def) {
      throw inputError(
        'PUSH_NOT_FOUND',
        `start push ${q(push)} on server ${q(this.serverId)}`,
        `the rules of this server define no push with id ${q(push)}`,
        {
          field: 'pushId',
          hint: `defined pushes: ${(this.doc.pushes ?? []).map((p) => q(p.id)).join(', ') || '(none): add one under "pushes" or pass a definition'}`,
        },
      );
    }
    this.stopPush(def.id);
    const run: RunningPush = { push: def, start: performance.now(), ticks: 0, sent: 0, skipped: 0 };
    this.pushes.set(def.id, run);
    this.schedule(run);
    return pushStatus(run, true);
  }

  stopPush(id: string): PushStatus | undefined {
    const run = this.pushes.get(id);
    if (!run) return undefined;
    clearTimeout(run.timer);
    this.pushes.delete(id);
    return pushStatus(run, false);
  }

  pushList(): PushStatus[] {
    const out: PushStatus[] = [...this.pushes.values()].map((r) => pushStatus(r, true));
    for (const p of this.doc.pushes ?? []) {
      if (!this.pushes.has(p.id)) {
        out.push({
          id: p.id,
          everyMs: p.everyMs,
          to: p.to ?? 'each',
          running: false,
          ticks: 0,
          sent: 0,
          skipped: 0,
        });
      }
    }
    return out;
  }

  /**
   * Ticks are scheduled against the start time (start + n * everyMs), not chained from the previous tick,
   * so timer lateness does not accumulate into drift. A tick later than a whole interval skips the missed
   * ones (counted) rather than bursting.
   */
  private schedule(run: RunningPush): void {
    const every = run.push.everyMs;
    const now = performance.now();
    let next = run.start + (run.ticks + run.skipped + 1) * every;
    if (now - next >= every) {
      const missed = Math.floor((now - next) / every);
      run.skipped += missed;
      next += missed * every;
    }
    run.timer = setTimeout(
      () => {
        if (this.pushes.get(run.push.id) !== run) return;
        run.ticks++;
        this.tick(run);
        this.schedule(run);
      },
      Math.max(0, next - now),
    );
    run.timer.unref?.();
  }

  private tick(run: RunningPush): void {
    const p = run.push;
    const field = `pushes[${p.id}].message`;
    // Broadcast renders once per tick; so does "each" when the message is the same for every connection
    // (literal text, now.*): 1,000 connections then cost 1,000 sends, not 1,000 renders.
    const once = p.to === 'broadcast' || this.templates.sameForEveryConnection(p.message);
    if (once) {
      let out: { data: Buffer; binary: boolean };
      try {
        out = this.render(undefined, p.message, undefined, run.ticks);
      } catch (e) {
        this.templateFailed(undefined, field, p.message, e);
        this.stopPush(p.id);
        return;
      }
      for (const st of this.peers.values()) {
        st.counter++;
        if (st.peer.send(out.data, out.binary, 'push', p.id)) run.sent++;
      }
      return;
    }
    for (const st of this.peers.values()) {
      let out: { data: Buffer; binary: boolean };
      try {
        out = this.render(st, p.message, undefined, ++st.counter);
      } catch (e) {
        this.templateFailed(st.peer.conn, field, p.message, e);
        this.stopPush(p.id);
        return;
      }
      if (st.peer.send(out.data, out.binary, 'push', p.id)) run.sent++;
    }
  }

  // --- manual push -------------------------------------------------------------------------------------

  /** Send a message now to one connection (log number) or all; logged as injected. */
  inject(conn: number | undefined, data: Buffer, binary: boolean): number[] {
    const targets = conn === undefined ? [...this.peers.values()] : [this.peer(conn, 'send to')];
    const sent: number[] = [];
    for (const st of targets) {
      st.counter++;
      if (st.peer.send(data, binary, 'injected', 'manual push')) sent.push(st.peer.conn);
    }
    return sent;
  }

  private peer(conn: number, verb: string): PeerState {
    const st = this.peers.get(conn);
    if (!st) {
      throw inputError(
        'CONN_NOT_FOUND',
        `${verb} connection ${conn} of server ${q(this.serverId)}`,
        `connection ${conn} is not open on this server`,
        {
          field: 'conn',
          hint: `open connections: ${this.connections().join(', ') || '(none)'}`,
        },
      );
    }
    return st;
  }

  // --- replay ------------------------------------------------------------------------------------------

  /**
   * Play the recorded server->client frames to one connection with their original spacing divided by
   * `speed`. With waitForClient, each recorded client->server frame is awaited (any message from the
   * client) before the frames after it are played. Resolves when done or when the connection closes.
   */
  replay(
    conn: number,
    frames: ReplayFrame[],
    opts: { speed?: number; waitForClient?: boolean } = {},
  ): { id: string; done: Promise<{ sent: number; completed: boolean }> } {
    const st = this.peer(conn, 'replay to');
    const id = `replay-${++this.replaySeq}`;
    const speed = opts.speed ?? 1;
    const state = { id } as NonNullable<PeerState['replay']>;
    st.replay = state;
    this.version++;
    const done = (async () => {
      let sent = 0;
      let clock = performance.now();
      let prevT = frames[0]?.t ?? 0;
      let pendingClient = 0;
      state.onClientMessage = () => {
        pendingClient++;
      };
      for (const f of frames) {
        if (!st.peer.open || st.replay !== state) return { sent, completed: false };
        const target = clock + (f.t - prevT) / speed;
        prevT = f.t;
        if (f.dir === 'in') {
          if (!opts.waitForClient) continue;
          if (pendingClient > 0) pendingClient--;
          else {
            await new Promise<void>((resolve) => {
              state.onClientMessage = () => {
                state.onClientMessage = () => {
                  pendingClient++;
                };
                resolve();
              };
            });
          }
          // Timing restarts from the client's message, as in the recording.
          clock = performance.now();
          continue;
        }
        const wait = target - performance.now();
        if (wait > 0) await this.sleep(st, wait);
        clock = target;
        if (!st.peer.open || st.replay !== state) return { sent, completed: false };
        st.counter++;
        if (st.peer.send(f.data, f.binary, 'replay', id)) sent++;
      }
      if (st.replay === state) {
        st.replay = undefined;
        this.version++;
      }
      return { sent, completed: true };
    })();
    return { id, done };
  }

  // --- try a message -----------------------------------------------------------------------------------

  /** Which rule of `doc` (default: the current rules) a message would match, and what it would send. */
  tryMessage(input: TryInput, doc?: RulesFile): TryResult {
    const rules = doc ? compileRules(doc) : this.rules;
    const facts: ConnFacts = {
      index: input.connection ?? 1,
      path: input.path ?? '/',
      query: new URLSearchParams(input.query ?? {}),
      headers: Object.fromEntries(
        Object.entries(input.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
      ),
      protocol: input.protocol ?? '',
    };
    const mv = new MessageView(input.data, input.isBinary, input.messageNumber ?? 1);
    const r = rules.forConnection(facts).first(mv);
    if (!r) return { rule: null, outcome: this.mode(), sends: [], errors: [] };
    const fake = {
      peer: { conn: 0, index: facts.index, path: facts.path, protocol: facts.protocol },
      query: input.query ?? {},
      headers: facts.headers as Record<string, string>,
    } as unknown as PeerState;
    const sends: TrySend[] = [];
    const errors: string[] = [];
    let at = 0;
    r.replies.forEach((m, i) => {
      at += m.delayMs ?? 0;
      try {
        const out = this.render(fake, m, mv, i + 1);
        sends.push({
          to: m.to ?? 'sender',
          delayMs: at,
          opcode: out.binary ? 'binary' : 'text',
          ...(out.binary
            ? { dataBase64: out.data.toString('base64') }
            : { text: out.data.toString('utf8') }),
        });
      } catch (e) {
        errors.push(
          `rules[${r.index}].reply${Array.isArray(r.rule.reply) ? `[${i}]` : ''}: ${(e as Error).message}`,
        );
      }
    });
    const outcome: MessageOutcome =
      r.rule.fallThrough === true ? this.mode() : (r.rule.fallThrough ?? 'handled');
    const close = r.rule.close;
    return {
      rule: r.index,
      ...(r.rule.name ? { name: r.rule.name } : {}),
      outcome,
      sends,
      ...(close
        ? {
            close: {
              code: close.code ?? 1000,
              reason: close.reason ?? '',
              delayMs: at + (close.delayMs ?? 0),
            },
          }
        : {}),
      errors,
    };
  }
}

function compileRules(doc: RulesFile): RuleSet<CompiledRule> {
  const out: CompiledRule[] = [];
  (doc.rules ?? []).forEach((rule, index) => {
    if (rule.enabled === false) return;
    out.push({
      index,
      rule,
      ...(rule.match ? { when: rule.match } : {}),
      replies:
        rule.reply === undefined ? [] : Array.isArray(rule.reply) ? rule.reply : [rule.reply],
    });
  });
  return new RuleSet(out);
}

function closePeer(peer: Peer, c: RuleClose): void {
  if (peer.open) peer.close(c.code ?? 1000, c.reason ?? '');
}

function pushStatus(r: RunningPush, running: boolean): PushStatus {
  return {
    id: r.push.id,
    everyMs: r.push.everyMs,
    to: r.push.to ?? 'each',
    running,
    ticks: r.ticks,
    sent: r.sent,
    skipped: r.skipped,
  };
}
