// Templates for rule replies, scripts and pushes: mustache.js (logic-less). Why mustache and not Handlebars,
// LiquidJS or Eta: mustache.js interprets a token list (no eval / new Function, unlike Handlebars and Eta,
// which compile templates to JavaScript), has no helpers, includes or file loaders (LiquidJS's
// {% include %} reads files from its root by default), and can only read the view object we give it. The
// view is built here from null-prototype objects and arrays, so a template reaches request values and the
// few values below, nothing else: no files, no environment, no code.
//
// Values a template can use:
//   {{text}}  the client's message as text      {{json.a.b}}  a field of the message parsed as JSON
//   {{query.x}} {{headers.x}} (lower-case names) {{path}} {{protocol}}
//   {{conn}} (log connection number)  {{connection}} (nth connection to this server)  {{messageNumber}}
//   {{counter}} (messages sent by rules/scripts/pushes on this connection, from 1)
//   {{now.iso}} {{now.ms}} {{now.unix}} {{now.date}} {{now.time}} {{now.http}}
//   {{uuid}}  {{random.int}} {{random.float}} {{random.hex}}  {{#randomInt}}1-6{{/randomInt}}
// In a "json" reply a string that is exactly one tag ("{{json.id}}") keeps the value's JSON type.
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import Mustache from 'mustache';

export interface TemplateRequest {
  conn: number;
  connection: number;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  protocol: string;
  messageNumber: number;
  counter: number;
  /** The message the template answers (absent for pushes and script sends before any message). */
  message?: {
    data: Buffer;
    isBinary: boolean;
    /** The message already parsed as JSON by the matchers (undefined: not JSON), to avoid parsing twice. */
    json?: () => unknown;
  };
}

/** A template failed while rendering: which one and why (the caller adds the rule and field). */
export class TemplateError extends Error {}

const MAX_JSON = 1024 * 1024;

/** Deeper than this, a message's JSON is cut (null) in the template view: recursion stays bounded. */
const MAX_VIEW_DEPTH = 64;

function nullProto(x: unknown, depth = 0): unknown {
  if (depth > MAX_VIEW_DEPTH) return null;
  if (Array.isArray(x)) {
    const a = x.map((i) => nullProto(i, depth + 1));
    Object.setPrototypeOf(a, null);
    return a;
  }
  if (x && typeof x === 'object') {
    const o = Object.create(null) as Record<string, unknown>;
    for (const [k, v] of Object.entries(x)) o[k] = nullProto(v, depth + 1);
    return o;
  }
  return x;
}

function dict(r: Record<string, string>): Record<string, string> {
  return Object.assign(Object.create(null) as Record<string, string>, r);
}

/** The message as JSON (null-prototype), or undefined when it is not JSON text. */
export function parseJsonMessage(data: Buffer, isBinary: boolean): unknown {
  if (isBinary || data.length > MAX_JSON) return undefined;
  try {
    return JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Where a view keeps its request and the values computed on first use (a symbol: no template reaches it). */
const STATE = Symbol('view state');

interface ViewState {
  req: TemplateRequest;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  now?: Record<string, unknown>;
  text?: string;
  json?: unknown;
  jsonDone?: boolean;
}
type View = Record<string, unknown> & { [STATE]: ViewState };

/** A getter on a null-prototype object (no Object.prototype behind a template's lookup). */
function getters<T>(defs: Record<string, (s: T) => unknown>, state: (o: object) => T): object {
  const proto = Object.create(null) as object;
  for (const [k, get] of Object.entries(defs)) {
    Object.defineProperty(proto, k, {
      enumerable: true,
      get(this: object) {
        return get(state(this));
      },
    });
  }
  return proto;
}

/** ISO text of the last millisecond formatted: a busy server renders many replies within one. */
let isoCache = { ms: NaN, iso: '' };
function iso(d: Date): string {
  const ms = d.getTime();
  if (ms !== isoCache.ms) isoCache = { ms, iso: d.toISOString() };
  return isoCache.iso;
}

const NOW = getters<Date>(
  {
    iso: (d) => iso(d),
    ms: (d) => String(d.getTime()),
    unix: (d) => String(Math.floor(d.getTime() / 1000)),
    date: (d) => iso(d).slice(0, 10),
    time: (d) => iso(d).slice(11, 23),
    http: (d) => d.toUTCString(),
  },
  (o) => (o as { [STATE]: Date })[STATE],
);

/**
 * The view's costly values (the message as text and JSON, `now`, query and headers as dictionaries) are
 * getters on a shared prototype, computed on first use and kept: a template that does not mention them
 * does not pay for them, and a render allocates one small object, not a getter per value.
 */
const VIEW = getters<ViewState>(
  {
    query: (s) => (s.query ??= dict(s.req.query)),
    headers: (s) => (s.headers ??= dict(s.req.headers)),
    now: (s) =>
      (s.now ??= Object.assign(Object.create(NOW) as Record<string, unknown>, {
        [STATE]: new Date(),
      })),
    text: (s) => {
      const m = s.req.message;
      if (!m) return undefined;
      return (s.text ??= m.isBinary ? m.data.toString('hex') : m.data.toString('utf8'));
    },
    json: (s) => {
      const m = s.req.message;
      if (!m) return undefined;
      if (!s.jsonDone) {
        s.jsonDone = true;
        const j = m.json ? m.json() : parseJsonMessage(m.data, m.isBinary);
        s.json = j === undefined ? undefined : nullProto(j);
      }
      return s.json;
    },
  },
  (o) => (o as View)[STATE],
);

/** Compiled JSON templates, per template object (the rules document keeps them alive). */
type JsonNode =
  | { k: 'value'; v: unknown }
  | { k: 'tag'; name: string }
  | { k: 'text'; t: string }
  | { k: 'array'; items: JsonNode[] }
  | { k: 'object'; keys: string[]; items: JsonNode[] };

function compileJson(t: unknown, depth: number): JsonNode {
  if (depth > 32) throw new TemplateError('JSON template nested deeper than 32 levels');
  if (typeof t === 'string') {
    const single = /^\{\{\{?\s*([A-Za-z0-9_.]+)\s*\}?\}\}$/.exec(t);
    if (single) return { k: 'tag', name: single[1] as string };
    return t.includes('{{') ? { k: 'text', t } : { k: 'value', v: t };
  }
  if (Array.isArray(t)) return { k: 'array', items: t.map((x) => compileJson(x, depth + 1)) };
  if (t && typeof t === 'object') {
    const keys = Object.keys(t);
    return {
      k: 'object',
      keys,
      items: keys.map((key) => compileJson((t as Record<string, unknown>)[key], depth + 1)),
    };
  }
  return { k: 'value', v: t };
}

const UUID = () => randomUUID();
const RANDOM = Object.assign(Object.create(null) as Record<string, unknown>, {
  int: () => randomInt(0, 2 ** 31 - 1),
  float: () => Math.random(),
  hex: () => randomBytes(8).toString('hex'),
});
// Section lambda: {{#randomInt}}1-6{{/randomInt}} -> a whole number in [1, 6].
const RANDOM_INT = () => (body: string) => {
  const r = /^\s*(-?\d{1,15})\s*-\s*(-?\d{1,15})\s*$/.exec(body);
  if (!r) return '';
  const lo = Number(r[1]);
  const hi = Number(r[2]);
  return hi >= lo ? String(randomInt(lo, hi + 1)) : '';
};

export class Templates {
  /** Own writer: its parse cache is dropped when the rules change. */
  private readonly writer = new Mustache.Writer();
  /** Text templates made only of text and plain top-level tags, rendered by concatenation (no mustache). */
  private readonly plain = new Map<string, ((view: Record<string, unknown>) => string) | null>();
  private readonly free = new WeakMap<object, boolean>();

  clear(): void {
    this.writer.clearCache();
    this.plain.clear();
  }

  /**
   * True when a message template renders the same for every connection (only literal text and now.*):
   * a push to each connection then renders it once per tick. uuid and random.* are fresh per use, and
   * every other value (counter, conn, request values) belongs to a connection.
   */
  sameForEveryConnection(m: { text?: string; json?: unknown; binary?: string }): boolean {
    let free = this.free.get(m);
    if (free === undefined) {
      free = true;
      const strings: string[] = [];
      collectStrings(m.text ?? m.binary ?? m.json, strings, 0);
      try {
        for (const t of strings)
          if (!namesOnly(Mustache.parse(t), (n) => /^now\./.test(n))) free = false;
      } catch {
        free = false; // a template error is reported when it renders
      }
      this.free.set(m, free);
    }
    return free;
  }

  /** The view for one render: request values, and the costly ones as getters computed on first use. */
  view(req: TemplateRequest): Record<string, unknown> {
    const v = Object.create(VIEW) as View;
    v[STATE] = { req };
    v.conn = req.conn;
    v.connection = req.connection;
    v.path = req.path;
    v.protocol = req.protocol;
    v.messageNumber = req.messageNumber;
    v.counter = req.counter;
    v.uuid = UUID;
    v.random = RANDOM;
    v.randomInt = RANDOM_INT;
    return v;
  }

  /** Render a text template. */
  text(template: string, view: Record<string, unknown>): string {
    if (!template.includes('{{')) return template;
    let fast = this.plain.get(template);
    if (fast === undefined) {
      fast = plainTemplate(template);
      if (this.plain.size < 10_000) this.plain.set(template, fast);
    }
    if (fast) return fast(view);
    try {
      return this.writer.render(template, view, undefined, { escape: (s: unknown) => String(s) });
    } catch (e) {
      throw new TemplateError((e as Error).message);
    }
  }

  /** Render a JSON template to its text. */
  json(template: unknown, view: Record<string, unknown>): string {
    let node = this.compiled.get(template as object);
    if (!node) {
      node = compileJson(template, 0);
      if (template !== null && typeof template === 'object')
        this.compiled.set(template as object, node);
    }
    return JSON.stringify(this.jsonValue(node, view));
  }

  private readonly compiled = new WeakMap<object, JsonNode>();

  private jsonValue(n: JsonNode, view: Record<string, unknown>): unknown {
    switch (n.k) {
      case 'value':
        return n.v;
      case 'tag': {
        let value: unknown = new Mustache.Context(view).lookup(n.name);
        if (typeof value === 'function') value = (value as () => unknown).call(view);
        return value === undefined ? null : value;
      }
      case 'text':
        return this.text(n.t, view);
      case 'array':
        return n.items.map((x) => this.jsonValue(x, view));
      case 'object': {
        const o: Record<string, unknown> = {};
        for (let i = 0; i < n.keys.length; i++)
          o[n.keys[i] as string] = this.jsonValue(n.items[i] as JsonNode, view);
        return o;
      }
    }
  }

  /** Render a binary template: hex digits (spaces allowed) after rendering. */
  binary(template: string, view: Record<string, unknown>): Buffer {
    const hex = this.text(template, view).replace(/\s+/g, '');
    if (!/^([0-9a-fA-F]{2})*$/.test(hex)) {
      throw new TemplateError(
        `binary template rendered to ${JSON.stringify(hex.slice(0, 40))}, which is not hex digits`,
      );
    }
    return Buffer.from(hex, 'hex');
  }
}

/** Values a plain template may name: the view's own fields, never functions. */
const PLAIN_NAMES = new Set(['conn', 'connection', 'path', 'protocol', 'messageNumber', 'counter']);

/**
 * A renderer for a template of text and {{name}} / {{{name}}} / {{&name}} tags of PLAIN_NAMES only, which
 * gives what mustache gives (null and undefined render empty, the rest as String(value)) without its
 * token walk; null for any other template.
 */
function plainTemplate(template: string): ((view: Record<string, unknown>) => string) | null {
  let tokens: unknown[][];
  try {
    tokens = Mustache.parse(template) as unknown[][];
  } catch {
    return null; // mustache reports the error
  }
  const parts: (string | { name: string })[] = [];
  for (const t of tokens) {
    if (t[0] === 'text') parts.push(t[1] as string);
    else if ((t[0] === 'name' || t[0] === '&') && PLAIN_NAMES.has(t[1] as string))
      parts.push({ name: t[1] as string });
    else return null;
  }
  return (view) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else {
        const v = view[p.name];
        if (v !== null && v !== undefined) out += String(v);
      }
    }
    return out;
  };
}

/** Every tag name in a token tree satisfies `ok` (partials never do). */
function namesOnly(tokens: unknown[][], ok: (name: string) => boolean): boolean {
  for (const t of tokens) {
    const kind = t[0];
    if (kind === 'text') continue;
    if (kind === '>') return false;
    if (typeof t[1] === 'string' && kind !== '!' && kind !== '=' && !ok(t[1])) return false;
    if (Array.isArray(t[4]) && !namesOnly(t[4] as unknown[][], ok)) return false;
  }
  return true;
}

function collectStrings(x: unknown, out: string[], depth: number): void {
  if (depth > 32) return;
  if (typeof x === 'string') out.push(x);
  else if (Array.isArray(x)) for (const i of x) collectStrings(i, out, depth + 1);
  else if (x && typeof x === 'object')
    for (const v of Object.values(x)) collectStrings(v, out, depth + 1);
}
