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
    // On the decoded text (decoded once per message): a JS string search is far cheaper than a call into
    // Buffer.includes per rule.
    const want = m.contains;
    p.push((_c, msg) => !msg!.isBinary && msg!.text.includes(want));
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
    const ptr = pointerTokens(m.pointer);
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

/** What a rule index needs of a compiled rule. */
export interface IndexedRule {
  index: number;
  match: (c: ConnFacts, m: MessageView) => boolean;
  when?: Match;
}

const isPrimitive = (v: unknown): v is string | number | boolean | null =>
  v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const valueKey = (v: unknown) => `${typeof v}:${String(v)}`;

/**
 * First-match-wins lookup that does not test every rule against every message. Rules that need an exact
 * text are found by a map lookup on the message text; rules that compare a JSON Pointer with a primitive
 * value (routing by "type", the common case) by resolving each distinct pointer once and looking the value
 * up; text-only rules are skipped for binary messages and binary-only rules for text. Candidates from these
 * lists are merged in rule order and each is still checked with its full matcher, so the result is exactly
 * the first rule whose matcher holds.
 */
export class RuleIndex<R extends IndexedRule> {
  private readonly textOnlyOrAny: R[] = [];
  private readonly binaryOrAny: R[] = [];
  private readonly byText = new Map<string, R[]>();
  private readonly byPointer = new Map<string, { tokens: string[]; byValue: Map<string, R[]> }>();

  constructor(rules: R[]) {
    for (const r of rules) {
      const m = r.when;
      const binaryOnly = m?.opcode === 'binary' || m?.hexPrefix !== undefined;
      const textOnly =
        m?.opcode === 'text' ||
        m?.text !== undefined ||
        m?.contains !== undefined ||
        m?.regex !== undefined ||
        m?.pointer !== undefined;
      if (m?.text !== undefined) {
        push(this.byText, m.text, r);
      } else if (m?.pointer !== undefined && m.value !== undefined && isPrimitive(m.value)) {
        let p = this.byPointer.get(m.pointer);
        if (!p)
          this.byPointer.set(
            m.pointer,
            (p = { tokens: pointerTokens(m.pointer), byValue: new Map() }),
          );
        push(p.byValue, valueKey(m.value), r);
      } else {
        if (!binaryOnly) this.textOnlyOrAny.push(r);
        if (!textOnly) this.binaryOrAny.push(r);
      }
    }
  }

  first(c: ConnFacts, msg: MessageView): R | undefined {
    if (msg.isBinary) {
      for (const r of this.binaryOrAny) if (r.match(c, msg)) return r;
      return undefined;
    }
    const lists: R[][] = [this.textOnlyOrAny];
    if (this.byText.size > 0) {
      const hit = this.byText.get(msg.text);
      if (hit) lists.push(hit);
    }
    if (this.byPointer.size > 0) {
      const doc = msg.json();
      if (doc !== undefined) {
        for (const p of this.byPointer.values()) {
          const r = resolvePointer(doc, p.tokens);
          if (r.found && isPrimitive(r.value)) {
            const hit = p.byValue.get(valueKey(r.value));
            if (hit) lists.push(hit);
          }
        }
      }
    }
    if (lists.length === 1) {
      for (const r of this.textOnlyOrAny) if (r.match(c, msg)) return r;
      return undefined;
    }
    // k-way merge by rule index (each list is in rule order).
    const at = lists.map(() => 0);
    for (;;) {
      let best = -1;
      for (let k = 0; k < lists.length; k++) {
        const r = (lists[k] as R[])[at[k] as number];
        if (r && (best < 0 || r.index < ((lists[best] as R[])[at[best] as number] as R).index))
          best = k;
      }
      if (best < 0) return undefined;
      const r = (lists[best] as R[])[at[best] as number] as R;
      at[best] = (at[best] as number) + 1;
      if (r.match(c, msg)) return r;
    }
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
