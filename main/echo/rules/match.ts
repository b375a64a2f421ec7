// Compiled matchers: a rule's `match` becomes a list of predicates, cheapest first, each guarded by a cheap
// test on the raw bytes that must pass before anything is decoded or parsed. A text-equals test compares
// bytes (no decoding), `contains` and JSON-pointer keys are ruled out by a byte-pair scan of the message
// (small messages) or Buffer.indexOf (big ones) before the text is decoded or the JSON parsed, regular
// expressions run on RE2JS (linear time: a hostile message cannot make a rule take exponential time), and
// text and JSON are each produced at most once per message. The guards are necessary conditions only: a
// rule that passes them is still decided by the exact test, so what matches is what the plain tests say.
import { RE2JS } from 're2js';
import type { ConnMatch, Match } from '../../../shared/rules';

const MAX_JSON = 1024 * 1024;
/** Regular expressions only look at the first 1 MiB of a message (RE2 is linear; this bounds the constant). */
const MAX_REGEX_INPUT = 1024 * 1024;
/**
 * Messages up to this size are scanned once in JavaScript into a byte-pair table (below); bigger ones are
 * searched with Buffer.indexOf, whose native call costs ~60 ns but scans fast.
 */
const SCAN_MAX = 4096;

// Byte pairs (and single bytes) seen in the last scanned message: an entry equal to the current stamp
// means "present". Stamped, not cleared, so a scan costs one write per byte. Module-wide: matching is
// synchronous, and a view whose stamp is no longer current scans again. Pairs are hashed into 4,096 slots
// (16 KiB, stays in the CPU cache between messages; a 65,536-slot table measured ~0.5 us per message of
// cache misses in a busy server): two pairs sharing a slot only make a guard pass more often, never fail.
const PAIR_SLOTS = 4096;
const PAIRS = new Uint32Array(PAIR_SLOTS);
const pairSlot = (a: number, b: number) => ((a << 4) ^ b ^ (a >> 4)) & (PAIR_SLOTS - 1);
const SINGLES = new Uint32Array(256);
let stamp = 0;

/** A byte string a guard looks for: its bytes and its byte pairs. */
export class Needle {
  readonly pairs: Uint16Array;
  constructor(readonly bytes: Buffer) {
    const n = Math.max(0, bytes.length - 1);
    this.pairs = new Uint16Array(n);
    for (let i = 0; i < n; i++)
      this.pairs[i] = pairSlot(bytes[i] as number, bytes[i + 1] as number);
  }
}

const isJsonSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** The message being matched; text, JSON and the byte scan are produced lazily, once. */
export class MessageView {
  private textCache: string | undefined;
  private jsonState = 0; // 0 unknown, 1 parsed, 2 not JSON
  private jsonValue: unknown;
  private scanStamp = 0;
  private hashCache: number | undefined;
  private backslash = -1; // -1 unknown, 0 no, 1 yes
  constructor(
    readonly data: Buffer,
    readonly isBinary: boolean,
    readonly messageNumber: number,
  ) {}
  get text(): string {
    return (this.textCache ??= this.data.toString('utf8'));
  }
  /** Parsed JSON, or undefined for binary / not JSON / over 1 MiB. */
  json(): unknown {
    if (this.jsonState === 0) {
      this.jsonState = 2;
      if (!this.isBinary && this.data.length <= MAX_JSON) {
        try {
          this.jsonValue = JSON.parse(this.text);
          this.jsonState = 1;
        } catch {
          // not JSON: pointer matchers fail
        }
      }
    }
    return this.jsonState === 1 ? this.jsonValue : undefined;
  }

  /** FNV-1a of the bytes: the key exact-text rules are indexed by. */
  hash(): number {
    return (this.hashCache ??= fnv1a(this.data));
  }

  /** Might the bytes contain `n`? False only when they certainly do not. */
  mayContain(n: Needle): boolean {
    const d = this.data;
    if (n.bytes.length > d.length) return false;
    if (d.length > SCAN_MAX) return d.indexOf(n.bytes) >= 0;
    this.scan();
    if (n.bytes.length === 1) return SINGLES[n.bytes[0] as number] === stamp;
    const p = n.pairs;
    for (let i = 0; i < p.length; i++) if (PAIRS[p[i] as number] !== stamp) return false;
    return true;
  }

  /** Does any byte equal "\" (a JSON escape, so a key may be spelled other than plainly)? */
  hasBackslash(): boolean {
    if (this.data.length <= SCAN_MAX) {
      this.scan();
      return SINGLES[0x5c] === stamp;
    }
    if (this.backslash < 0) this.backslash = this.data.indexOf(0x5c) >= 0 ? 1 : 0;
    return this.backslash === 1;
  }

  /** Could this be a JSON object or array (first byte after JSON white space is "{" or "[")? */
  mayBeJsonContainer(): boolean {
    if (this.isBinary || this.data.length > MAX_JSON) return false;
    const d = this.data;
    let i = 0;
    while (i < d.length && isJsonSpace(d[i] as number)) i++;
    return d[i] === 0x7b || d[i] === 0x5b;
  }

  private scan(): void {
    if (this.scanStamp === stamp && stamp !== 0) return;
    if (++stamp === 0xffffffff) {
      PAIRS.fill(0);
      SINGLES.fill(0);
      stamp = 1;
    }
    this.scanStamp = stamp;
    const d = this.data;
    const s = stamp;
    let prev = -1;
    for (let i = 0; i < d.length; i++) {
      const b = d[i] as number;
      SINGLES[b] = s;
      if (prev >= 0) PAIRS[pairSlot(prev, b)] = s;
      prev = b;
    }
  }
}

export function fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ (b[i] as number), 16777619);
  return h >>> 0;
}

/** The connection facts a matcher may look at. */
export interface ConnFacts {
  index: number;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  protocol: string;
}

function inRange(n: number, r: number | { min?: number; max?: number }): boolean {
  if (typeof r === 'number') return n === r;
  return (r.min === undefined || n >= r.min) && (r.max === undefined || n <= r.max);
}

/** A JSON Pointer (RFC 6901) split into its unescaped tokens, once per rule. */
export function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** JSON Pointer lookup; `found` false when the path does not exist. */
export function resolvePointer(
  doc: unknown,
  pointer: string | string[],
): { found: boolean; value?: unknown } {
  const tokens = typeof pointer === 'string' ? pointerTokens(pointer) : pointer;
  let cur: unknown = doc;
  for (const key of tokens) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9]\d*)$/.test(key) || Number(key) >= cur.length) return { found: false };
      cur = cur[Number(key)];
    } else if (cur !== null && typeof cur === 'object' && Object.hasOwn(cur, key)) {
      cur = (cur as Record<string, unknown>)[key];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: cur };
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every(
      (k) =>
        Object.hasOwn(b, k) &&
        jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    )
  );
}

/** Does `m` look at the connection (path, query, header, protocol, connection number)? */
export function hasConnMatch(m: ConnMatch | undefined): boolean {
  return (
    m !== undefined &&
    (m.connection !== undefined ||
      m.protocol !== undefined ||
      m.path !== undefined ||
      m.query !== undefined ||
      m.header !== undefined)
  );
}

/** A connection-only matcher (scripts, and the per-connection rule filter). */
export function compileConnMatch(m: ConnMatch | undefined): (c: ConnFacts) => boolean {
  const p: ((c: ConnFacts) => boolean)[] = [];
  if (m?.connection !== undefined) {
    const r = m.connection;
    p.push((c) => inRange(c.index, r));
  }
  if (m?.protocol !== undefined) {
    const want = m.protocol;
    p.push((c) => c.protocol === want);
  }
  if (m?.path !== undefined) {
    const want = m.path;
    p.push((c) => c.path === want);
  }
  for (const [name, want] of Object.entries(m?.query ?? {})) {
    p.push((c) => (want === true ? c.query.has(name) : c.query.get(name) === want));
  }
  for (const [rawName, want] of Object.entries(m?.header ?? {})) {
    const name = rawName.toLowerCase();
    p.push((c) => {
      const h = c.headers[name];
      if (h === undefined) return false;
      return want === true || (Array.isArray(h) ? h.includes(want) : h === want);
    });
  }
  return (c) => {
    for (const f of p) if (!f(c)) return false;
    return true;
  };
}

/**
 * The byte needle whose presence a `contains: s` match needs, or undefined when there is no exact byte
 * equivalent. A decoded text contains s exactly when the bytes contain UTF-8(s), as long as s has no
 * U+FFFD (which invalid bytes decode to) and no lone surrogate (which UTF-8 cannot carry).
 */
export function textNeedle(s: string): Needle | undefined {
  const bytes = Buffer.from(s, 'utf8');
  if (s.includes('\ufffd') || !roundTrips(s, bytes)) return undefined;
  return new Needle(bytes);
}

/** UTF-8 carries `s` unchanged (false when it has a lone surrogate, which encodes as U+FFFD). */
const roundTrips = (s: string, bytes: Buffer) => bytes.toString('utf8') === s;

/**
 * The needle `"key"` a JSON text must contain (unless it has a backslash, i.e. an escape) for an object
 * in it to have that key, or undefined when the key needs escaping or may be an array index.
 */
export function keyNeedle(tokens: string[]): Needle | undefined {
  const key = tokens[tokens.length - 1];
  if (key === undefined || /^(0|[1-9]\d*)$/.test(key)) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/["\\\u0000-\u001f]/.test(key)) return undefined;
  const bytes = Buffer.from(`"${key}"`, 'utf8');
  return roundTrips(`"${key}"`, bytes) ? new Needle(bytes) : undefined;
}

/**
 * A pointer test's guard: true when the pointer might resolve in this message, false when it certainly
 * does not (not a JSON object or array; the key's quoted name absent and no escape anywhere).
 */
export function pointerGuard(tokens: string[]): (msg: MessageView) => boolean {
  if (tokens.length === 0) return () => true;
  const key = keyNeedle(tokens);
  if (!key) return (msg) => msg.mayBeJsonContainer();
  return (msg) => msg.mayBeJsonContainer() && (msg.mayContain(key) || msg.hasBackslash());
}

/**
 * A byte string a text message must contain for `m` to match (`escape`: or any backslash, for a JSON key
 * that may be spelled with escapes), so a rule list can skip the rule with one table lookup and no call.
 */
export function requiredBytes(
  m: Match | undefined,
): { needle: Needle; escape: boolean } | undefined {
  if (m?.contains !== undefined) {
    const needle = textNeedle(m.contains);
    if (needle) return { needle, escape: false };
  }
  if (m?.pointer !== undefined && (m.value !== undefined || (m.exists ?? true))) {
    const needle = keyNeedle(pointerTokens(m.pointer));
    if (needle) return { needle, escape: true };
  }
  return undefined;
}

type MsgPred = (msg: MessageView) => boolean;

/** The message part of a matcher (no connection conditions). */
export function compileMessageMatch(m: Match | undefined): (msg: MessageView) => boolean {
  if (!m) return () => true;
  const p: MsgPred[] = [];
  // Cheapest tests first: a rule that cannot match is rejected before any decoding.
  if (m.opcode !== undefined) {
    const bin = m.opcode === 'binary';
    p.push((msg) => msg.isBinary === bin);
  }
  if (m.messageNumber !== undefined) {
    const r = m.messageNumber;
    p.push((msg) => inRange(msg.messageNumber, r));
  }
  if (m.text !== undefined) {
    const want = Buffer.from(m.text, 'utf8');
    p.push((msg) => !msg.isBinary && msg.data.length === want.length && msg.data.equals(want));
  }
  if (m.hexPrefix !== undefined) {
    const want = Buffer.from(m.hexPrefix, 'hex');
    p.push(
      (msg) =>
        msg.isBinary &&
        msg.data.length >= want.length &&
        msg.data.subarray(0, want.length).equals(want),
    );
  }
  if (m.contains !== undefined) {
    // Decided on the decoded text (decoded once per message), after a byte guard that rules out almost
    // every non-matching message without decoding it.
    const want = m.contains;
    const needle = textNeedle(want);
    p.push(
      (msg) =>
        !msg.isBinary &&
        (needle === undefined || msg.mayContain(needle)) &&
        msg.text.includes(want),
    );
  }
  if (m.regex !== undefined) {
    const re = RE2JS.compile(m.regex);
    p.push((msg) => {
      if (msg.isBinary) return false;
      const t = msg.data.length > MAX_REGEX_INPUT ? msg.text.slice(0, MAX_REGEX_INPUT) : msg.text;
      return re.matcher(t).find();
    });
  }
  if (m.pointer !== undefined) {
    const ptr = pointerTokens(m.pointer);
    const hasValue = m.value !== undefined;
    const want = m.value;
    const exists = m.exists ?? true;
    // exists:false holds for any JSON without the field, a bare number or string included: no guard.
    const guard = hasValue || exists ? pointerGuard(ptr) : () => true;
    p.push((msg) => {
      if (!guard(msg)) return false;
      const doc = msg.json();
      if (doc === undefined) return false;
      const r = resolvePointer(doc, ptr);
      if (hasValue) return r.found && jsonEqual(r.value, want);
      return r.found === exists;
    });
  }
  if (p.length === 1) return p[0] as MsgPred;
  return (msg) => {
    for (const f of p) if (!f(msg)) return false;
    return true;
  };
}

/** A message matcher with its connection conditions (script waits, "try a message"). */
export function compileMatch(m: Match | undefined): (c: ConnFacts, msg: MessageView) => boolean {
  const conn = hasConnMatch(m) ? compileConnMatch(m) : undefined;
  const msg = compileMessageMatch(m);
  return conn ? (c, mv) => conn(c) && msg(mv) : (_c, mv) => msg(mv);
}
