// Compiled matchers: a rule's `match` becomes a list of predicates, cheapest first. A text-equals test
// compares bytes (no decoding), contains searches bytes, regular expressions run on RE2JS (linear time: a
// hostile message cannot make a rule take exponential time), JSON is parsed once per message and only when a
// rule asks for a pointer.
import { RE2JS } from 're2js';
import type { ConnMatch, Match } from '../../../shared/rules';

/** The message being matched; text and JSON are decoded lazily, once. */
export class MessageView {
  private textCache: string | undefined;
  private jsonState = 0; // 0 unknown, 1 parsed, 2 not JSON
  private jsonValue: unknown;
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
}

/** The connection facts a matcher may look at. */
export interface ConnFacts {
  index: number;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  protocol: string;
}

const MAX_JSON = 1024 * 1024;
/** Regular expressions only look at the first 1 MiB of a message (RE2 is linear; this bounds the constant). */
const MAX_REGEX_INPUT = 1024 * 1024;

type Pred = (c: ConnFacts, m: MessageView | undefined) => boolean;

function inRange(n: number, r: number | { min?: number; max?: number }): boolean {
  if (typeof r === 'number') return n === r;
  return (r.min === undefined || n >= r.min) && (r.max === undefined || n <= r.max);
}

/** JSON Pointer (RFC 6901) lookup; `found` false when the path does not exist. */
export function resolvePointer(doc: unknown, pointer: string): { found: boolean; value?: unknown } {
  if (pointer === '') return { found: true, value: doc };
  let cur: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
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

function connPreds(m: ConnMatch): Pred[] {
  const p: Pred[] = [];
  if (m.connection !== undefined) {
    const r = m.connection;
    p.push((c) => inRange(c.index, r));
  }
  if (m.protocol !== undefined) {
    const want = m.protocol;
    p.push((c) => c.protocol === want);
  }
  if (m.path !== undefined) {
    const want = m.path;
    p.push((c) => c.path === want);
  }
  for (const [name, want] of Object.entries(m.query ?? {})) {
    p.push((c) => (want === true ? c.query.has(name) : c.query.get(name) === want));
  }
  for (const [rawName, want] of Object.entries(m.header ?? {})) {
    const name = rawName.toLowerCase();
    p.push((c) => {
      const h = c.headers[name];
      if (h === undefined) return false;
      return want === true || (Array.isArray(h) ? h.includes(want) : h === want);
    });
  }
  return p;
}

/** A connection-only matcher (scripts). */
export function compileConnMatch(m: ConnMatch | undefined): (c: ConnFacts) => boolean {
  const preds = m ? connPreds(m) : [];
  return (c) => preds.every((f) => f(c, undefined));
}

/** A message matcher. */
export function compileMatch(m: Match | undefined): (c: ConnFacts, msg: MessageView) => boolean {
  if (!m) return () => true;
  const p: Pred[] = [];
  // Cheapest tests first: a rule that cannot match is rejected before any decoding.
  if (m.opcode !== undefined) {
    const bin = m.opcode === 'binary';
    p.push((_c, msg) => msg!.isBinary === bin);
  }
  if (m.messageNumber !== undefined) {
    const r = m.messageNumber;
    p.push((_c, msg) => inRange(msg!.messageNumber, r));
  }
  p.push(...connPreds(m));
  if (m.text !== undefined) {
    const want = Buffer.from(m.text, 'utf8');
    p.push(
      (_c, msg) => !msg!.isBinary && msg!.data.length === want.length && msg!.data.equals(want),
    );
  }
  if (m.hexPrefix !== undefined) {
    const want = Buffer.from(m.hexPrefix, 'hex');
    p.push(
      (_c, msg) =>
        msg!.isBinary &&
        msg!.data.length >= want.length &&
        msg!.data.subarray(0, want.length).equals(want),
    );
  }
  if (m.contains !== undefined) {
    const want = Buffer.from(m.contains, 'utf8');
    p.push((_c, msg) => !msg!.isBinary && msg!.data.includes(want));
  }
  if (m.regex !== undefined) {
    const re = RE2JS.compile(m.regex);
    p.push((_c, msg) => {
      if (msg!.isBinary) return false;
      const t =
        msg!.data.length > MAX_REGEX_INPUT ? msg!.text.slice(0, MAX_REGEX_INPUT) : msg!.text;
      return re.matcher(t).find();
    });
  }
  if (m.pointer !== undefined) {
    const ptr = m.pointer;
    const hasValue = m.value !== undefined;
    const want = m.value;
    const exists = m.exists ?? true;
    p.push((_c, msg) => {
      const doc = msg!.json();
      if (doc === undefined) return false;
      const r = resolvePointer(doc, ptr);
      if (hasValue) return r.found && jsonEqual(r.value, want);
      return r.found === exists;
    });
  }
  return (c, msg) => {
    for (const f of p) if (!f(c, msg)) return false;
    return true;
  };
}
