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
  message?: { data: Buffer; isBinary: boolean };
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

/** A property computed on first read, then kept (enumerable, so mustache's `in` lookup sees it). */
function lazy(o: Record<string, unknown>, key: string, get: () => unknown): void {
  Object.defineProperty(o, key, {
    enumerable: true,
    configurable: true,
    get() {
      const value = get();
      Object.defineProperty(o, key, { value, enumerable: true });
      return value;
    },
  });
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

  clear(): void {
    this.writer.clearCache();
  }

  /**
   * The view for one render. Costly values (the message as text and JSON, `now` in its formats) are getters
   * computed on first use, so a template that does not mention them does not pay for them.
   */
  view(req: TemplateRequest): Record<string, unknown> {
    const v = Object.create(null) as Record<string, unknown>;
    const m = req.message;
    v.conn = req.conn;
    v.connection = req.connection;
    v.path = req.path;
    v.protocol = req.protocol;
    v.messageNumber = req.messageNumber;
    v.counter = req.counter;
    v.uuid = UUID;
    v.random = RANDOM;
    v.randomInt = RANDOM_INT;
    lazy(v, 'query', () => dict(req.query));
    lazy(v, 'headers', () => dict(req.headers));
    lazy(v, 'now', () => {
      const d = new Date();
      const iso = d.toISOString();
      return dict({
        iso,
        ms: String(d.getTime()),
        unix: String(Math.floor(d.getTime() / 1000)),
        date: iso.slice(0, 10),
        time: iso.slice(11, 23),
        http: d.toUTCString(),
      });
    });
    if (m) {
      lazy(v, 'text', () => (m.isBinary ? m.data.toString('hex') : m.data.toString('utf8')));
      lazy(v, 'json', () => {
        const j = parseJsonMessage(m.data, m.isBinary);
        return j === undefined ? undefined : nullProto(j);
      });
    }
    return v;
  }

  /** Render a text template. */
  text(template: string, view: Record<string, unknown>): string {
    if (!template.includes('{{')) return template;
    try {
      return this.writer.render(template, view, undefined, { escape: (s: unknown) => String(s) });
    } catch (e) {
      throw new TemplateError((e as Error).message);
    }
  }

  /** Render a JSON template to its text. */
  json(template: unknown, view: Record<string, unknown>): string {
    return JSON.stringify(this.jsonValue(template, view, 0));
  }

  private jsonValue(t: unknown, view: Record<string, unknown>, depth: number): unknown {
    if (depth > 32) throw new TemplateError('JSON template nested deeper than 32 levels');
    if (typeof t === 'string') {
      const single = /^\{\{\{?\s*([A-Za-z0-9_.]+)\s*\}?\}\}$/.exec(t);
      if (single) {
        let value: unknown = new Mustache.Context(view).lookup(single[1] as string);
        if (typeof value === 'function') value = (value as () => unknown).call(view);
        if (value === undefined) return null;
        return value;
      }
      return this.text(t, view);
    }
    if (Array.isArray(t)) return t.map((x) => this.jsonValue(x, view, depth + 1));
    if (t && typeof t === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(t)) o[k] = this.jsonValue(x, view, depth + 1);
      return o;
    }
    return t;
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
