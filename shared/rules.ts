// Over 400 lines: one schema document (rules, scripts, pushes) that editors, the UI and the engine read as a whole.
// Behaviour of an echo server beyond echo: ordered rules (first match wins), an on-connect
// scripted conversation, periodic pushes. One valibot schema, used by the engine (rules files, API input),
// by the renderer (validation as you type) and, converted by scripts/rules-schema.mjs, published as
// schemas/rules.schema.json for editors. Pure: no Node APIs, so the renderer can import it.
//
// A rules file:
//   { "$schema": "./node_modules/wss-studio/schemas/rules.schema.json",
//     "rules": [ { "name": "ping", "match": { "pointer": "/type", "value": "ping" },
//                  "reply": { "json": { "type": "pong", "id": "{{json.id}}" } } } ],
//     "onConnect": [ { "steps": [ { "wait": { "pointer": "/type", "value": "connection_init" },
//                                   "timeoutMs": 3000, "onTimeout": { "close": { "code": 4408 } } },
//                                 { "send": { "json": { "type": "connection_ack" } } } ] } ],
//     "pushes": [ { "id": "tick", "everyMs": 1000, "message": { "text": "tick {{counter}}" } } ] }
import * as v from 'valibot';
import Mustache from 'mustache';
import { RE2JS } from 're2js';

export const RULE_LIMITS = {
  rules: 500,
  text: 64 * 1024,
  /** Longest regular expression source. RE2 matches in linear time; the cap bounds its compiled size. */
  regex: 1024,
  replies: 64,
  steps: 64,
  pushes: 32,
  delayMs: 600_000,
  /** Shortest periodic push interval (see README "Rules, scripts, pushes, replay": measured jitter). */
  minEveryMs: 10,
  /** A rules file bigger than this is refused before it is parsed. */
  fileBytes: 1024 * 1024,
} as const;

const msg = (s: string) => s;
/** A description for editors (shown on hover from the published JSON Schema). */
const doc = <S extends v.GenericSchema>(schema: S, d: string) => v.pipe(schema, v.description(d));
const text = (max: number = RULE_LIMITS.text) =>
  v.pipe(v.string('must be a string'), v.maxLength(max, `must be at most ${max} characters`));
const int = (min: number, max: number, what = '') =>
  v.pipe(
    v.number(`must be a number${what}`),
    v.integer('must be a whole number'),
    v.minValue(min, `must be from ${min} to ${max}${what}`),
    v.maxValue(max, `must be from ${min} to ${max}${what}`),
  );
const delay = v.optional(int(0, RULE_LIMITS.delayMs, ' (milliseconds)'));

/** Mustache parse check, so a template error is reported when the rules are loaded, with its position. */
export function templateError(t: string): string | null {
  try {
    Mustache.parse(t);
    return null;
  } catch (e) {
    const m = (e as Error).message;
    // mustache.js reports where it gave up (the end); point at the tag that was left open instead.
    const open = /^Unclosed tag at (\d+)/.exec(m);
    if (open) {
      const at = t.lastIndexOf('{{', Number(open[1]));
      if (at >= 0)
        return `unclosed tag ${JSON.stringify(t.slice(at, at + 20))} at character ${at + 1}`;
    }
    return m;
  }
}
const template = (max: number = RULE_LIMITS.text) =>
  v.pipe(
    text(max),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const err = templateError(dataset.value as string);
      if (err) addIssue({ message: `is not a valid template: ${err} (close every {{ with }})` });
    }),
  );

/** RE2 syntax check: RE2 has no backreferences or lookaround and matches in linear time (no ReDoS). */
export function regexError(source: string): string | null {
  try {
    RE2JS.compile(source);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Is this a JSON Pointer (RFC 6901): "" or "/a/b~1c/0". */
export const isPointer = (p: string): boolean => p === '' || /^(\/([^~]|~[01])*)+$/.test(p);

/** A JSON template: strings inside are templates; a string that is exactly "{{x}}" keeps x's JSON type. */
const jsonTemplate = v.pipe(
  v.unknown(),
  v.check((x) => x !== undefined, 'must be a JSON value'),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const bad = firstBadTemplate(dataset.value, 0);
    if (bad) addIssue({ message: `holds an invalid template: ${bad} (close every {{ with }})` });
  }),
);
function firstBadTemplate(x: unknown, depth: number): string | null {
  if (depth > 32) return 'nested deeper than 32 levels';
  if (typeof x === 'string') return templateError(x);
  if (Array.isArray(x)) {
    for (const i of x) {
      const e = firstBadTemplate(i, depth + 1);
      if (e) return e;
    }
  } else if (x && typeof x === 'object') {
    for (const i of Object.values(x)) {
      const e = firstBadTemplate(i, depth + 1);
      if (e) return e;
    }
  }
  return null;
}

const rangeOrInt = v.union(
  [
    int(1, Number.MAX_SAFE_INTEGER),
    v.strictObject({
      min: v.optional(int(1, Number.MAX_SAFE_INTEGER)),
      max: v.optional(int(1, Number.MAX_SAFE_INTEGER)),
    }),
  ],
  'must be a whole number from 1, or {"min": N, "max": M}',
);

/** Conditions on the connection: all given must hold. */
export const ConnMatchSchema = v.strictObject({
  /** Request path (pathname) the client connected to, exact. */
  path: v.optional(doc(text(2048), 'Request path the client connected to (exact).')),
  /** Query parameters: a value must be equal; true means "present". */
  query: v.optional(v.record(text(256), v.union([text(2048), v.literal(true)]))),
  /** Request headers (names case-insensitive): a value must be equal; true means "present". */
  header: v.optional(v.record(text(256), v.union([text(2048), v.literal(true)]))),
  /** The chosen subprotocol; "" = none chosen. */
  protocol: v.optional(doc(text(256), 'The chosen subprotocol ("" = none).')),
  /** The nth connection to this server since it started (1 = first). */
  connection: v.optional(
    doc(rangeOrInt, 'The nth connection to this server since it started: N or {"min","max"}.'),
  ),
});

/** Conditions on a message (and its connection): all given must hold. */
export const MatchSchema = v.strictObject({
  ...ConnMatchSchema.entries,
  opcode: v.optional(v.picklist(['text', 'binary'], 'must be "text" or "binary"')),
  /** Whole text equal. */
  text: v.optional(doc(text(), 'The whole text message equals this.')),
  contains: v.optional(doc(text(), 'The text message contains this.')),
  /** RE2 regular expression (searched, not anchored: use ^ and $). Inline flags: (?i). */
  regex: v.optional(
    v.pipe(
      text(RULE_LIMITS.regex),
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return;
        const err = regexError(dataset.value as string);
        if (err)
          addIssue({
            message: `is not a valid RE2 regular expression (${err}); RE2 has no backreferences or lookaround`,
          });
      }),
    ),
  ),
  /** JSON Pointer into the message parsed as JSON; with `value`: equal (deep); without: the field exists. */
  pointer: v.optional(
    v.pipe(
      text(1024),
      v.check(
        isPointer,
        'is not a JSON Pointer: start it with "/" and write ~0 for "~" and ~1 for "/" (e.g. "/type" or "/payload/0/id")',
      ),
    ),
  ),
  value: v.optional(doc(v.unknown(), 'With pointer: the field equals this JSON value (deep).')),
  /** With pointer and no value: false = the field must be absent. */
  exists: v.optional(v.boolean('must be true or false')),
  /** Binary message starting with these bytes (hex, e.g. "cafe01"). */
  hexPrefix: v.optional(
    v.pipe(
      text(2048),
      v.regex(/^([0-9a-fA-F]{2})+$/, 'must be an even number of hex digits, e.g. "cafe01"'),
    ),
  ),
  /** The nth message from this client on its connection (1 = first). */
  messageNumber: v.optional(
    doc(rangeOrInt, 'The nth message from this client (1 = first): N or {"min","max"}.'),
  ),
});

/** One message to send. Exactly one of text, json or binary. */
export const MessageSchema = v.pipe(
  v.strictObject({
    /** A text message (template). */
    text: v.optional(
      doc(
        template(),
        'A text message; a template: {{text}}, {{json.id}}, {{now.iso}}, {{uuid}}, {{counter}} ...',
      ),
    ),
    /** A JSON value sent as text; strings inside are templates, "{{x}}" alone keeps x's type. */
    json: v.optional(
      doc(
        jsonTemplate,
        'A JSON message; strings are templates, "{{json.id}}" alone keeps its type.',
      ),
    ),
    /** A binary message: hex digits (template, e.g. "cafe{{hex.counter}}"). */
    binary: v.optional(doc(template(), 'A binary message as hex digits (a template).')),
    /** Wait this long before sending (after the previous message of the list). */
    delayMs: delay,
    /** sender (default): the connection the rule fired for; all: every connection of the server; others. */
    to: v.optional(v.picklist(['sender', 'all', 'others'], 'must be "sender", "all" or "others"')),
  }),
  v.check(
    (m) => [m.text, m.json, m.binary].filter((x) => x !== undefined).length === 1,
    'needs exactly one of "text", "json" or "binary"',
  ),
);

export const CloseSchema = v.strictObject({
  /** 1000, or 3000..4999 (1001..1015 are reserved for the protocol's own meanings; 1000 is fine). */
  code: v.optional(
    v.pipe(
      int(1000, 4999),
      v.check(
        (c) =>
          c === 1000 ||
          c === 1001 ||
          (c >= 1002 && c <= 1003) ||
          (c >= 1007 && c <= 1014) ||
          c >= 3000,
        'is not a close code a server may send: use 1000, 1001, 1002, 1003, 1007..1014 or 3000..4999',
      ),
    ),
  ),
  reason: v.optional(
    v.pipe(
      v.string('must be a string'),
      v.check(
        (r) => new TextEncoder().encode(r).length <= 123,
        'must be at most 123 bytes (UTF-8)',
      ),
    ),
  ),
  delayMs: delay,
});

const replySchema = v.union(
  [MessageSchema, v.pipe(v.array(MessageSchema), v.maxLength(RULE_LIMITS.replies))],
  'must be a message {"text"|"json"|"binary": ...} or a list of them',
);

export const RuleSchema = v.pipe(
  v.strictObject({
    /** Shown in the log and in "try a message". */
    name: v.optional(text(200)),
    /** Off rules are kept but never match. */
    enabled: v.optional(v.boolean('must be true or false')),
    /** Missing or {}: every message matches. */
    match: v.optional(doc(MatchSchema, 'Conditions, all must hold; missing: every message.')),
    reply: v.optional(
      doc(replySchema, 'Message(s) to send; a list is sent in order, each after its delayMs.'),
    ),
    /** Close the connection after the replies. */
    close: v.optional(doc(CloseSchema, 'Close the connection after the replies.')),
    /** Explicitly do nothing with the message (no reply, no echo). */
    swallow: v.optional(
      doc(
        v.literal(true, 'must be true (or left out)'),
        'Do nothing with the message: no reply, no echo.',
      ),
    ),
    /** After this rule's actions, also do the server's mode (true) or the given one. */
    fallThrough: v.optional(
      v.union(
        [v.literal(true), v.picklist(['echo', 'broadcast', 'silent'])],
        'must be true, "echo", "broadcast" or "silent"',
      ),
    ),
  }),
  v.check(
    (r) => !(r.swallow && (r.reply !== undefined || r.fallThrough !== undefined)),
    '"swallow" cannot be combined with "reply" or "fallThrough": remove one',
  ),
);

const StepSchema = v.union(
  [
    v.strictObject({ send: MessageSchema }),
    v.strictObject({
      /** Wait for a message from the client matching this; messages that do not match go to the rules. */
      wait: MatchSchema,
      timeoutMs: int(1, RULE_LIMITS.delayMs, ' (milliseconds)'),
      /** What to do when the timeout passes: close (default 4408 "timeout"), send and go on, or go on. */
      onTimeout: v.optional(
        v.union(
          [
            v.strictObject({ close: CloseSchema }),
            v.strictObject({ send: MessageSchema }),
            v.literal('continue'),
          ],
          'must be {"close": {...}}, {"send": {...}} or "continue"',
        ),
      ),
    }),
    v.strictObject({ delayMs: int(0, RULE_LIMITS.delayMs, ' (milliseconds)') }),
    v.strictObject({ close: CloseSchema }),
  ],
  'must be one of {"send": ...}, {"wait": ..., "timeoutMs": N}, {"delayMs": N} or {"close": ...}',
);

export const ScriptSchema = v.strictObject({
  name: v.optional(text(200)),
  /** Which connections run this script (first script whose match holds); missing: every connection. */
  match: v.optional(ConnMatchSchema),
  steps: v.pipe(v.array(StepSchema), v.maxLength(RULE_LIMITS.steps)),
});

export const PushSchema = v.strictObject({
  /** Letters, digits, "-" and "_": the name push.start / push.stop use. */
  id: v.pipe(
    v.string('must be a string'),
    v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, "-" or "_"'),
  ),
  everyMs: int(RULE_LIMITS.minEveryMs, 86_400_000, ' (milliseconds; at least 10)'),
  message: MessageSchema,
  /** each (default): rendered per connection (own counter); broadcast: rendered once, sent to all. */
  to: v.optional(v.picklist(['each', 'broadcast'], 'must be "each" or "broadcast"')),
  /** Start with the server (default false: start it from the UI, API or CLI). */
  autoStart: v.optional(v.boolean('must be true or false')),
});

export const RulesFileSchema = v.strictObject({
  $schema: v.optional(text(2048)),
  rules: v.optional(v.pipe(v.array(RuleSchema), v.maxLength(RULE_LIMITS.rules))),
  onConnect: v.optional(v.pipe(v.array(ScriptSchema), v.maxLength(RULE_LIMITS.rules))),
  pushes: v.optional(v.pipe(v.array(PushSchema), v.maxLength(RULE_LIMITS.pushes))),
});

export type ConnMatch = v.InferOutput<typeof ConnMatchSchema>;
export type Match = v.InferOutput<typeof MatchSchema>;
export type RuleMessage = v.InferOutput<typeof MessageSchema>;
export type RuleClose = v.InferOutput<typeof CloseSchema>;
export type Rule = v.InferOutput<typeof RuleSchema>;
export type ScriptStep = v.InferOutput<typeof StepSchema>;
export type Script = v.InferOutput<typeof ScriptSchema>;
export type Push = v.InferOutput<typeof PushSchema>;
export type RulesFile = v.InferOutput<typeof RulesFileSchema>;

/** One problem in a rules document: where, what was there, why and how to fix it. */
export interface RulesProblem {
  /** e.g. "rules[3].match.pointer". */
  path: string;
  /** The bad value, shortened to 80 characters (JSON). */
  value?: string;
  message: string;
}

export type RulesCheck = { ok: true; value: RulesFile } | { ok: false; problems: RulesProblem[] };

/** Validate a rules document. Pure; never throws. Problems are listed in document order (at most 20). */
export function checkRules(input: unknown): RulesCheck {
  const r = v.safeParse(RulesFileSchema, input);
  if (r.success) {
    // Unknown-key and type errors are caught above; dangling "value" without "pointer" is a likely mistake.
    const problems: RulesProblem[] = [];
    r.output.rules?.forEach((rule, i) => {
      if (rule.match?.value !== undefined && rule.match.pointer === undefined) {
        problems.push({
          path: `rules[${i}].match.value`,
          value: short(rule.match.value),
          message: msg('needs "pointer": name the JSON field to compare, e.g. "pointer": "/type"'),
        });
      }
    });
    return problems.length ? { ok: false, problems } : { ok: true, value: r.output };
  }
  const seen = new Set<string>();
  const problems: RulesProblem[] = [];
  for (const issue of r.issues) {
    const path = issuePath(issue);
    // A union reports one issue per branch at the same path; the first is the most useful.
    if (seen.has(path)) continue;
    seen.add(path);
    const unknownKey = issue.type === 'strict_object' || issue.expected === 'never';
    problems.push({
      path,
      // An unknown field's "input" is its name, already the last part of the path.
      ...(issue.input !== undefined && !unknownKey ? { value: short(issue.input) } : {}),
      message: unknownKey
        ? `is not a known field here: remove it or check its spelling (see schemas/rules.schema.json)`
        : issue.message,
    });
    if (problems.length >= 20) break;
  }
  return { ok: false, problems };
}

export function formatProblem(p: RulesProblem): string {
  return `${p.path || '(document)'}${p.value !== undefined ? ` = ${p.value}` : ''}: ${p.message}`;
}

function short(x: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(x) ?? String(x);
  } catch {
    s = String(x);
  }
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}

function issuePath(issue: v.BaseIssue<unknown>): string {
  let out = '';
  for (const item of issue.path ?? []) {
    const key = (item as { key?: unknown }).key;
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string') out += out ? `.${key}` : key;
  }
  return out;
}
