import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventHub } from './events';
import { Tasks } from './tasks';
import { Dispatcher } from './dispatch';
import { inputError } from '../../shared/errors';

afterEach(() => {
  vi.useRealTimers();
});

describe('EventHub batching', () => {
  it('delivers a burst on one stream as ONE push per interval, merged', () => {
    vi.useFakeTimers();
    const hub = new EventHub(50);
    const pushes: unknown[] = [];
    hub.subscribe('task.progress', (d) => pushes.push(d));
    for (let i = 0; i < 1000; i++) {
      hub.emit('task.progress', {
        updates: [{ taskId: 't', task: 'ca.create', state: 'running', step: `s${i}` }],
      });
    }
    expect(pushes).toHaveLength(0);
    vi.advanceTimersByTime(49);
    expect(pushes).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(pushes).toHaveLength(1);
    const first = pushes[0] as { updates: { step: string }[] };
    expect(first.updates).toHaveLength(1000);
    expect(first.updates[0]?.step).toBe('s0');
    expect(first.updates[999]?.step).toBe('s999');
  });

  it('status streams keep only the newest snapshot; store.changed unions', () => {
    vi.useFakeTimers();
    const hub = new EventHub(50);
    const servers: unknown[] = [];
    const changed: unknown[] = [];
    hub.subscribe('server.status', (d) => servers.push(d));
    hub.subscribe('store.changed', (d) => changed.push(d));
    hub.emit('server.status', { servers: [] });
    hub.emit('server.status', { servers: [{ id: 'b' }] as never });
    hub.emit('store.changed', { what: ['ca'] });
    hub.emit('store.changed', { what: ['certs', 'ca'] });
    vi.advanceTimersByTime(50);
    expect(servers).toEqual([{ servers: [{ id: 'b' }] }]);
    expect(changed).toEqual([{ what: ['ca', 'certs'] }]);
  });

  it('a steady stream of events over 1 s gives at most ~20 pushes', () => {
    vi.useFakeTimers();
    const hub = new EventHub(50);
    let pushes = 0;
    hub.subscribe('client.events', () => pushes++);
    for (let t = 0; t < 1000; t++) {
      hub.emit('client.events', { events: [{ clientId: 'c', type: 'message', time: t }] });
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(50);
    expect(pushes).toBeGreaterThanOrEqual(19);
    expect(pushes).toBeLessThanOrEqual(21);
  });

  it('one throwing subscriber does not starve the others; close stops everything', () => {
    vi.useFakeTimers();
    const hub = new EventHub(50);
    let got = 0;
    hub.subscribe('store.changed', () => {
      throw new Error('window gone');
    });
    hub.subscribe('store.changed', () => got++);
    hub.emit('store.changed', { what: ['ca'] });
    vi.advanceTimersByTime(50);
    expect(got).toBe(1);
    hub.close();
    hub.emit('store.changed', { what: ['ca'] });
    vi.advanceTimersByTime(100);
    expect(got).toBe(1);
  });
});

describe('Tasks', () => {
  it('reports started, steps and done; cancel aborts the signal; a reused id is refused', async () => {
    vi.useFakeTimers();
    const hub = new EventHub(10);
    const updates: { state: string; step: string }[] = [];
    hub.subscribe('task.progress', (d) => updates.push(...d.updates));
    const tasks = new Tasks(hub);
    let signal: AbortSignal | undefined;
    let release: () => void = () => {};
    const run = tasks.run('doctor.run', 'abc', async (t) => {
      signal = t.signal;
      t.progress('step one');
      await new Promise<void>((r) => (release = r));
      return 42;
    });
    await expect(tasks.run('doctor.run', 'abc', async () => 1)).rejects.toMatchObject({
      code: 'TASK_ID_IN_USE',
    });
    expect(tasks.cancel('abc')).toBe(true);
    expect(signal?.aborted).toBe(true);
    release();
    expect(await run).toBe(42);
    expect(tasks.cancel('abc')).toBe(false);
    vi.advanceTimersByTime(10);
    expect(updates.map((u) => `${u.state}:${u.step}`)).toEqual([
      'running:started',
      'running:step one',
      'cancelled:finished',
    ]);
  });
});

describe('Dispatcher', () => {
  it('never echoes a rejected value back, and maps unknown names and thrown errors', async () => {
    const d = new Dispatcher({
      'cert.get': () => {
        throw inputError('CERT_NOT_FOUND', 'find certificate', 'no such id', {
          field: 'id',
          value: 'SECRET',
        });
      },
      'cert.list': () => {
        throw new Error('boom');
      },
    });
    const r = await d.call('cert.get', { id: 'x' }, { shell: 'test' });
    expect(r).toEqual({
      ok: false,
      error: {
        code: 'CERT_NOT_FOUND',
        action: 'find certificate',
        cause: 'no such id',
        kind: 'input',
        field: 'id',
      },
    });
    expect(JSON.stringify(r)).not.toContain('SECRET');
    expect(await d.call('cert.list', {}, { shell: 'test' })).toMatchObject({
      ok: false,
      error: { code: 'INTERNAL' },
    });
    expect(await d.call('__proto__', {}, { shell: 'test' })).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_REQUEST' },
    });
    expect(await d.call('ca.get', {}, { shell: 'test' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_IMPLEMENTED' },
    });
  });
});
