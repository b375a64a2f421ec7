// FirstRun with a fake engine: it starts setup.localhost with the user's choices (the stores the engine
// offers minus the unticked ones), shows each progress update of ITS task as it arrives, and ends with the
// engine's result, or with the failing step marked and the error in words. Compiled by the Svelte plugin in
// vitest.config.ts, so the runes are the real ones.
import { describe, expect, it } from 'vitest';
import type { AppInfo, SetupResult, SetupStep, Streams } from '../../../shared/api';
import { WssError } from '../../../shared/errors';
import type { Api } from './api';
import { FirstRun } from './first-run.svelte';
import { Studio } from './studio.svelte';

type Progress = Streams['task.progress'];

const step = (id: SetupStep['id'], state: SetupStep['state'], detail = ''): SetupStep => ({
  id,
  state,
  detail,
});

function fakeEngine() {
  let push: ((p: Progress) => void) | undefined;
  const calls: { name: string; input: unknown }[] = [];
  let finish: (r: unknown) => void = () => {};
  let fail: (e: unknown) => void = () => {};
  const api = {
    on: (name: string, cb: (p: Progress) => void) => {
      if (name === 'task.progress') push = cb;
      return () => (push = undefined);
    },
    newTaskId: () => 'ui-1',
    call: (name: string, input: unknown) => {
      calls.push({ name, input });
      if (name === 'setup.localhost') {
        return new Promise((resolve, reject) => {
          finish = resolve;
          fail = reject;
        });
      }
      return Promise.resolve([]);
    },
  };
  const studio = new Studio(api as unknown as Api);
  studio.info = { setupStores: ['system', 'nss', 'java'], platform: 'linux' } as AppInfo;
  return {
    studio,
    calls,
    push: (p: Progress) => push?.(p),
    subscribed: () => push !== undefined,
    finish: (r: unknown) => finish(r),
    fail: (e: unknown) => fail(e),
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

/** One task.progress push: setup.localhost's update of task `taskId` with these steps. */
const update = (taskId: string, steps: SetupStep[]): Progress['updates'][number] => ({
  taskId,
  task: 'setup.localhost',
  state: 'running',
  step: steps.at(-1)!.id,
  setup: steps,
});

describe('FirstRun', () => {
  it("offers the engine's stores and sends the user's choices to setup.localhost", async () => {
    const f = fakeEngine();
    const flow = new FirstRun(f.studio);
    expect(flow.storeChoices).toEqual(['system', 'nss', 'java']);
    flow.toggle('system', false);
    flow.toggle('java', false);
    flow.keyType = 'rsa';
    const done = flow.run();
    expect(flow.running).toBe(true);
    expect(f.calls[0]).toEqual({
      name: 'setup.localhost',
      input: { taskId: 'ui-1', stores: ['nss'], keyType: 'rsa', constrained: true },
    });
    // The CA's own progress is followed under the id the engine gives that step.
    expect(flow.caTaskId).toBe('ui-1-ca');
    f.finish({ steps: [], ca: {}, trust: [], sudo: [], leaf: {} });
    await done;
  });

  it('shows the progress of its own task as it arrives, then the result', async () => {
    const f = fakeEngine();
    const flow = new FirstRun(f.studio);
    const done = flow.run();
    f.push({
      updates: [
        update('ui-1', [
          step('ca', 'done', 'created "CA"'),
          step('trust', 'running', 'checking stores'),
        ]),
        // Another task's update (a second setup, another tab's) is not ours.
        update('other', [step('ca', 'failed', 'no')]),
      ],
    });
    expect(flow.steps.map((s) => `${s.id}=${s.state}`)).toEqual([
      'ca=done',
      'trust=running',
      'cert=pending',
      'server=pending',
    ]);
    expect(flow.steps[0]!.label).toBe('Create the local certificate authority');
    expect(flow.steps[1]!.detail).toBe('checking stores');
    const result: Partial<SetupResult> = {
      steps: [
        step('ca', 'done', 'created "CA"'),
        step('trust', 'warn', 'not trusted in any selected store yet'),
        step('cert', 'done', 'issued localhost-1'),
        step('server', 'done', 'listening at wss://localhost:4444/'),
      ],
      ca: { commonName: 'CA' } as SetupResult['ca'],
      trust: [],
      sudo: [{ store: 'system', sudo: 'sudo cp ca.pem /usr/local/share/ca-certificates/' }],
      url: 'wss://localhost:4444/',
    };
    f.finish(result);
    await done;
    expect(flow.running).toBe(false);
    expect(flow.finished).toBe(true);
    expect(flow.url).toBe('wss://localhost:4444/');
    expect(flow.sudo).toEqual(result.sudo);
    expect(f.studio.ca?.commonName).toBe('CA');
    expect(flow.steps.map((s) => s.state)).toEqual(['done', 'warn', 'done', 'done']);
    // The page's lists are reloaded, and the progress subscription is gone.
    expect(f.calls.map((c) => c.name)).toEqual(['setup.localhost', 'cert.list', 'server.list']);
    expect(f.subscribed()).toBe(false);
  });

  it('marks the failing step with the error in words and stops', async () => {
    const f = fakeEngine();
    const flow = new FirstRun(f.studio);
    const done = flow.run();
    f.push({
      updates: [
        update('ui-1', [
          step('ca', 'skipped', 'using "CA"'),
          step('trust', 'done', 'trusted in NSS'),
          step('cert', 'running', 'looking for an existing certificate'),
        ]),
      ],
    });
    f.fail(
      new WssError({
        code: 'NO_SPACE',
        action: 'write certificate',
        cause: 'disk full',
        hint: 'free some space',
        kind: 'failure',
      }),
    );
    await done;
    await flush();
    expect(flow.running).toBe(false);
    expect(flow.finished).toBe(false);
    expect(flow.steps.map((s) => s.state)).toEqual(['skipped', 'done', 'failed', 'pending']);
    expect(flow.steps[2]!.error).toEqual({
      message: 'failed to write certificate: disk full',
      hint: 'free some space',
      code: 'NO_SPACE',
    });
  });
});
