// First-match-wins over a server's rules, compiled once when the rules load. Per message it does only the
// work some rule needs: connection conditions (path, query, header, subprotocol, connection number) are
// settled once per connection, not per message; exact-text rules are found by a hash of the bytes; rules
// that route on a JSON Pointer value ("type": "x") share one guarded parse and one lookup per pointer;
// text-only rules are skipped for binary messages and binary-only rules for text. Every candidate is still
// checked with its full matcher and candidates are taken in rule order, so the answer is exactly the
// first rule whose conditions hold (rule-set.test.ts checks this against testing every rule in order).
import type { Match } from '../../../shared/rules';
import {
  compileConnMatch,
  compileMessageMatch,
  fnv1a,
  hasConnMatch,
  pointerGuard,
  pointerTokens,
  requiredBytes,
  resolvePointer,
  type Needle,
  type ConnFacts,
  type MessageView,
} from './match';

/** What the rule set needs of a rule: its position and its conditions. */
export interface SetRule {
  index: number;
  when?: Match;
}

interface Entry<R> {
  rule: R;
  conn?: (c: ConnFacts) => boolean;
  msg: (m: MessageView) => boolean;
  /** Bytes a text message must contain (or, with `escape`, any backslash) for the rule to match. */
  need?: Needle;
  escape: boolean;
}

interface PointerGroup<R> {
  tokens: string[];
  guard: (m: MessageView) => boolean;
  byValue: Map<string, Entry<R>[]>;
}

const isPrimitive = (v: unknown): v is string | number | boolean | null =>
  v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const valueKey = (v: unknown) => `${typeof v}:${String(v)}`;

/** Distinct connection-condition outcomes kept per rule set (connections mostly share a handful). */
const CONN_CACHE = 64;

export class RuleSet<R extends SetRule> {
  private readonly entries: Entry<R>[];
  private readonly connEntries: Entry<R>[];
  private readonly shared: ConnMatcher<R> | undefined;
  private readonly cache = new Map<string, ConnMatcher<R>>();

  constructor(rules: R[]) {
    this.entries = rules.map((rule) => {
      const need = requiredBytes(rule.when);
      return {
        rule,
        ...(hasConnMatch(rule.when) ? { conn: compileConnMatch(rule.when) } : {}),
        msg: compileMessageMatch(rule.when),
        ...(need ? { need: need.needle } : {}),
        escape: need?.escape ?? false,
      };
    });
    this.connEntries = this.entries.filter((e) => e.conn);
    if (this.connEntries.length === 0) this.shared = new ConnMatcher(this.entries);
  }

  get size(): number {
    return this.entries.length;
  }

  /** The matcher for one connection: only the rules whose connection conditions hold for it. */
  forConnection(c: ConnFacts): ConnMatcher<R> {
    if (this.shared) return this.shared;
    let key = '';
    for (const e of this.connEntries) key += e.conn?.(c) ? '1' : '0';
    const hit = this.cache.get(key);
    if (hit) return hit;
    const m = new ConnMatcher(this.entries.filter((e) => !e.conn || e.conn(c)));
    if (this.cache.size < CONN_CACHE) this.cache.set(key, m);
    return m;
  }
}

/** The rules that apply to one connection, indexed for its messages. */
export class ConnMatcher<R extends SetRule> {
  /** Rules neither index covers, for text and for binary messages, in rule order. */
  private readonly textScan: Entry<R>[] = [];
  private readonly binaryScan: Entry<R>[] = [];
  private readonly byHash = new Map<number, Entry<R>[]>();
  private readonly textLengths = new Set<number>();
  private readonly groups: PointerGroup<R>[] = [];
  private readonly lists: Entry<R>[][] = [];
  private readonly at: number[] = [];
  /** No rule applies to the connection: first() never matches. */
  readonly empty: boolean;

  constructor(entries: Entry<R>[]) {
    this.empty = entries.length === 0;
    const byPointer = new Map<string, PointerGroup<R>>();
    for (const e of entries) {
      const m = e.rule.when;
      if (m?.text !== undefined) {
        const bytes = Buffer.from(m.text, 'utf8');
        this.textLengths.add(bytes.length);
        push(this.byHash, fnv1a(bytes), e);
        continue;
      }
      if (m?.pointer !== undefined && m.value !== undefined && isPrimitive(m.value)) {
        let g = byPointer.get(m.pointer);
        if (!g) {
          const tokens = pointerTokens(m.pointer);
          g = { tokens, guard: pointerGuard(tokens), byValue: new Map() };
          byPointer.set(m.pointer, g);
          this.groups.push(g);
        }
        push(g.byValue, valueKey(m.value), e);
        continue;
      }
      const binaryOnly = m?.opcode === 'binary' || m?.hexPrefix !== undefined;
      const textOnly =
        m?.opcode === 'text' ||
        m?.contains !== undefined ||
        m?.regex !== undefined ||
        m?.pointer !== undefined;
      if (!binaryOnly) this.textScan.push(e);
      if (!textOnly) this.binaryScan.push(e);
    }
  }

  /** The first rule (in rule order) that matches the message, or undefined. */
  first(msg: MessageView): R | undefined {
    if (msg.isBinary) return scan(this.binaryScan, msg);
    // Candidates from the indexes; usually none, and then only the scan list is tested.
    let hits: Entry<R>[] | undefined;
    let more = false;
    if (this.textLengths.has(msg.data.length)) hits = this.byHash.get(msg.hash());
    for (const g of this.groups) {
      if (!g.guard(msg)) continue;
      const doc = msg.json();
      if (doc === undefined) break; // not JSON: no pointer group can match
      const r = resolvePointer(doc, g.tokens);
      if (r.found && isPrimitive(r.value)) {
        const hit = g.byValue.get(valueKey(r.value));
        if (!hit) continue;
        if (!hits) hits = hit;
        else {
          // A second candidate list (rare: two pointer routes, or a text and a route, both hit).
          if (!more) this.lists.splice(0, this.lists.length, hits);
          this.lists.push(hit);
          more = true;
        }
      }
    }
    if (!hits) return scan(this.textScan, msg);
    if (!more) return this.merge(msg, [hits, this.textScan]);
    this.lists.push(this.textScan);
    return this.merge(msg, this.lists);
  }

  /** k-way merge of rule-ordered lists: each candidate tested in rule order. */
  private merge(msg: MessageView, lists: Entry<R>[][]): R | undefined {
    const at = this.at;
    at.length = lists.length;
    at.fill(0);
    for (;;) {
      let best = -1;
      let bestIndex = Infinity;
      for (let k = 0; k < lists.length; k++) {
        const e = (lists[k] as Entry<R>[])[at[k] as number];
        if (e && e.rule.index < bestIndex) {
          best = k;
          bestIndex = e.rule.index;
        }
      }
      if (best < 0) return undefined;
      const e = (lists[best] as Entry<R>[])[at[best] as number] as Entry<R>;
      at[best] = (at[best] as number) + 1;
      if (e.msg(msg)) return e.rule;
    }
  }
}

/** Test a rule list in order; a rule whose required bytes are absent is skipped without a call. */
function scan<R extends SetRule>(list: Entry<R>[], msg: MessageView): R | undefined {
  for (let i = 0; i < list.length; i++) {
    const e = list[i] as Entry<R>;
    if (e.need !== undefined && !msg.mayContain(e.need) && !(e.escape && msg.hasBackslash()))
      continue;
    if (e.msg(msg)) return e.rule;
  }
  return undefined;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
