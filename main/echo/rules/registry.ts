// Every server's behaviour and where its rules come from: a rules file per server (`<state>/rules/<id>.json`
// in the desktop app and web mode, or the file given to `serve --rules`, watched for changes). An invalid
// document never replaces working rules: the previous rules stay and the status says why.
import fs from 'node:fs';
import path from 'node:path';
import { inputError, q } from '../../../shared/errors';
import { checkRules, formatProblem, RULE_LIMITS, type RulesProblem } from '../../../shared/rules';
import { ensureDir, writeFileAtomic } from '../../store';
import type { FrameLog } from '../frame-log';
import type { EchoMode } from '../types';
import { ServerBehaviour } from './behaviour';
import type { RulesStatusDto as RulesStatus } from '../../../shared/api';

/** A server's rules on the wire (rules.get / rules.set). */
export type { RulesStatus };

interface Source {
  file?: string;
  watcher?: fs.FSWatcher;
  debounce?: NodeJS.Timeout;
  lastText?: string;
  loadedAt?: string;
  error?: RulesStatus['error'];
}

export class Behaviours {
  private readonly map = new Map<string, ServerBehaviour>();
  private readonly sources = new Map<string, Source>();

  constructor(
    private readonly log: FrameLog,
    private readonly modeOf: (id: string) => EchoMode,
    /** Folder of per-server rules files (desktop/web); none: rules live in memory unless a file is attached. */
    private readonly rulesDir?: string,
  ) {}

  get(id: string): ServerBehaviour {
    let b = this.map.get(id);
    if (!b) {
      b = new ServerBehaviour(id, this.log, () => this.modeOf(id));
      this.map.set(id, b);
      if (this.rulesDir && !this.sources.has(id)) {
        // The app's own rules file: loaded if present (a bad one is reported, not thrown) and watched, so
        // a hand edit in an editor applies like one made in the rules panel.
        const file = path.join(this.rulesDir, `${id}.json`);
        this.sources.set(id, { file });
        if (fs.existsSync(file)) {
          this.load(id, file, b);
          this.watch(id, file, b);
        }
      }
    }
    return b;
  }

  /** Forget a removed server (its rules file stays on disk). */
  drop(id: string): void {
    this.map.get(id)?.stopped();
    this.map.delete(id);
    this.unwatch(id);
    this.sources.delete(id);
  }

  status(id: string): RulesStatus {
    const b = this.get(id);
    const s = this.sources.get(id) ?? {};
    return {
      serverId: id,
      rules: b.document,
      ...(s.file ? { file: s.file } : {}),
      ...(s.loadedAt ? { loadedAt: s.loadedAt } : {}),
      ...(s.error ? { error: s.error } : {}),
    };
  }

  /** Validate and apply a rules document (API / UI); written to the server's rules file when it has one. */
  set(id: string, input: unknown): RulesStatus {
    const b = this.get(id);
    const r = checkRules(input);
    if (!r.ok) throw rulesError(`set the rules of server ${q(id)}`, r.problems);
    const s = this.sources.get(id) ?? {};
    if (s.file) {
      ensureDir(path.dirname(s.file));
      const text = JSON.stringify(input, null, 2) + '\n';
      writeFileAtomic(s.file, text);
      s.lastText = text;
    }
    this.sources.set(id, s);
    if (s.file && !s.watcher) this.watch(id, s.file, b);
    b.setRules(r.value);
    s.loadedAt = new Date().toISOString();
    s.error = undefined;
    return this.status(id);
  }

  /**
   * Read rules from a file now (an error when the first read fails) and, with watch, again whenever it
   * changes (editors often replace the file: the folder is watched, not the file).
   */
  attachFile(id: string, file: string, watch: boolean): RulesStatus {
    const b = this.get(id);
    const abs = path.resolve(file);
    this.unwatch(id);
    this.sources.set(id, { file: abs });
    const first = this.load(id, abs, b);
    if (first) throw rulesError(`load rules file ${q(abs)}`, first.problems, first.message);
    if (watch) this.watch(id, abs, b);
    return this.status(id);
  }

  private watch(id: string, file: string, b: ServerBehaviour): void {
    const src = this.sources.get(id);
    if (!src || src.watcher) return;
    try {
      src.watcher = fs.watch(path.dirname(file), { persistent: false }, (_ev, name) => {
        if (name !== null && name !== path.basename(file)) return;
        clearTimeout(src.debounce);
        src.debounce = setTimeout(() => this.load(id, file, b), 100);
      });
      src.watcher.on('error', () => undefined);
    } catch {
      // No watching (e.g. inotify limits): the file is still read at start and written by set().
    }
  }

  close(): void {
    for (const id of this.sources.keys()) this.unwatch(id);
    for (const b of this.map.values()) b.stopped();
  }

  private unwatch(id: string): void {
    const s = this.sources.get(id);
    clearTimeout(s?.debounce);
    s?.watcher?.close();
    if (s) s.watcher = undefined;
  }

  /** Load a file into a behaviour; on failure keep the previous rules and return (and log) why. */
  private load(id: string, file: string, b: ServerBehaviour): RulesStatus['error'] | undefined {
    const s = this.sources.get(id) ?? { file };
    this.sources.set(id, s);
    let text: string;
    try {
      const st = fs.statSync(file);
      if (st.size > RULE_LIMITS.fileBytes) {
        return this.failed(
          id,
          s,
          `the file is ${st.size} bytes; the limit is ${RULE_LIMITS.fileBytes}`,
          [],
        );
      }
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      return this.failed(id, s, `cannot read it: ${(e as Error).message}`, []);
    }
    if (text === s.lastText && !s.error) return undefined;
    s.lastText = text;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      return this.failed(id, s, `it is not valid JSON: ${(e as Error).message}`, []);
    }
    const r = checkRules(doc);
    if (!r.ok) return this.failed(id, s, r.problems.map(formatProblem).join('; '), r.problems);
    b.setRules(r.value);
    const had = s.loadedAt !== undefined;
    s.loadedAt = new Date().toISOString();
    s.error = undefined;
    if (had) {
      this.log.add({
        type: 'error',
        serverId: id,
        code: 'RULES_RELOADED',
        message: `rules reloaded from ${q(file)}: ${r.value.rules?.length ?? 0} rules`,
      });
    }
    return undefined;
  }

  private failed(
    id: string,
    s: Source,
    message: string,
    problems: RulesProblem[],
  ): RulesStatus['error'] {
    s.error = { message, problems, at: new Date().toISOString() };
    this.log.add({
      type: 'error',
      serverId: id,
      code: 'RULES_INVALID',
      message: `rules file ${q(s.file ?? '')} not loaded, ${
        s.loadedAt ? 'the previous rules stay in force' : 'the server runs without rules'
      }: ${message}`,
    });
    return s.error;
  }
}

/** INVALID_RULES naming the first problem's path, the bad value and the fix; the others follow. */
export function rulesError(action: string, problems: RulesProblem[], message?: string) {
  const first = problems[0];
  return inputError(
    'INVALID_RULES',
    action,
    first ? problems.map(formatProblem).join('; ') : (message ?? 'invalid rules'),
    {
      ...(first ? { field: first.path } : {}),
      hint: first
        ? `fix ${first.path}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}; schemas/rules.schema.json describes every field`
        : 'fix the file and save it again',
    },
  );
}
