// Test double of the engine for the renderer's state classes: the real typed client (shared/client.ts) over
// a fake transport that records every request, answers from the test's table, and lets the test push
// stream events as the engine would (a change made by the CLI or another window arrives this way).
import type { RequestName, Result, StreamName, Streams } from '../../../shared/api';
import { createClient } from '../../../shared/client';
import type { Api } from './api';

type Answers = { [K in RequestName]?: (input: never) => Result<K> | Promise<Result<K>> };

export interface FakeEngine {
  api: Api;
  /** Every request made, in order. */
  calls: { name: string; input: unknown }[];
  /** The requests made with this name (their inputs). */
  inputs(name: RequestName): unknown[];
  /** Deliver one push of a stream to every subscriber. */
  push<S extends StreamName>(stream: S, data: Streams[S]): void;
}

export function fakeEngine(answers: Answers = {}): FakeEngine {
  const calls: { name: string; input: unknown }[] = [];
  const subs = new Map<string, Set<(d: unknown) => void>>();
  const api = createClient({
    async call(name, input) {
      calls.push({ name, input });
      const answer = (answers as Record<string, ((i: unknown) => unknown) | undefined>)[name];
      if (!answer) throw new Error(`the fake engine has no answer for ${name}`);
      return answer(input);
    },
    subscribe(stream, cb) {
      let set = subs.get(stream);
      if (!set) subs.set(stream, (set = new Set()));
      set.add(cb);
      return () => {
        set.delete(cb);
      };
    },
  });
  return {
    api,
    calls,
    inputs: (name) => calls.filter((c) => c.name === name).map((c) => c.input),
    push(stream, data) {
      for (const cb of subs.get(stream) ?? []) cb(data);
    },
  };
}
