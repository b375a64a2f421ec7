// The "Front a server" state with a fake engine: proxy.add gets only the options the user moved away from
// the engine's defaults (PROXY_DEFAULTS in shared/), the list follows proxy.status with no reload after an
// action, and a fault draft applies only the faults the user changed.
import { describe, expect, it } from 'vitest';
import { NO_FAULTS, PROXY_DEFAULTS, type ProxyDto } from '../../../shared/api';
import { WssError } from '../../../shared/errors';
import { FaultDraft, ProxiesState } from './proxies.svelte';
import { fakeEngine } from './testing';

const proxy = (name: string): ProxyDto => ({
  id: 'proxy-1',
  state: 'running',
  connections: 0,
  requests: 0,
  health: { state: 'up', detail: 'answered', checkedAt: '2026-01-01T00:00:00.000Z' },
  faults: { ...NO_FAULTS },
  definition: {
    id: 'proxy-1',
    name,
    publicUrl: 'https://app.test:8443',
    target: 'http://localhost:5173',
    bindHost: PROXY_DEFAULTS.bindHost,
    preserveHost: true,
    rewriteRedirects: true,
    targetVerify: true,
    enabled: true,
  },
});

describe('ProxiesState', () => {
  it('adds with the two URLs and only the options changed from the defaults; no reload after', async () => {
    const eng = fakeEngine({
      'proxy.list': () => [],
      'proxy.add': () => ({ proxy: proxy('front'), warnings: [] }),
    });
    const p = new ProxiesState(eng.api);
    const off = p.start();
    await Promise.resolve();
    expect(p.preserveHost).toBe(PROXY_DEFAULTS.preserveHost);
    p.target = ' http://localhost:3000 ';
    expect(await p.add()).toBe(true);
    p.targetVerify = false;
    p.certId = 'localhost';
    expect(await p.add()).toBe(true);
    expect(eng.inputs('proxy.add')).toEqual([
      { publicUrl: 'https://app.test:8443', target: 'http://localhost:3000', start: true },
      {
        publicUrl: 'https://app.test:8443',
        target: 'http://localhost:3000',
        start: true,
        certId: 'localhost',
        targetVerify: false,
      },
    ]);
    expect(eng.inputs('proxy.list')).toHaveLength(1);
    // The list is the stream's: a proxy added or renamed elsewhere shows without a request.
    eng.push('proxy.status', { proxies: [proxy('renamed by the CLI')] });
    expect(p.list.map((x) => x.definition.name)).toEqual(['renamed by the CLI']);
    off();
    eng.push('proxy.status', { proxies: [] });
    expect(p.list).toHaveLength(1);
    expect(eng.calls.map((c) => c.name)).toEqual(['proxy.list', 'proxy.add', 'proxy.add']);
  });
});

describe('ProxiesState add errors', () => {
  it('a failed add keeps the error (with its field) and no result; busy only while it runs', async () => {
    let fail = true;
    const eng = fakeEngine({
      'proxy.list': () => [],
      'proxy.add': async () => {
        await Promise.resolve();
        if (fail)
          throw new WssError({
            code: 'TARGET_UNREACHABLE',
            action: 'front http://localhost:5173',
            cause: 'nothing listens there',
            hint: 'start the dev server first',
            kind: 'input',
            field: 'target',
          });
        return { proxy: proxy('front'), warnings: [] };
      },
    });
    const p = new ProxiesState(eng.api);
    const running = p.add();
    expect(p.busy).toBe(true);
    expect(await running).toBe(false);
    expect(p.busy).toBe(false);
    expect(p.lastAdd).toBeNull();
    expect(p.addError).toEqual({
      message: 'failed to front http://localhost:5173: nothing listens there',
      hint: 'start the dev server first',
      code: 'TARGET_UNREACHABLE',
      field: 'target',
    });
    fail = false;
    expect(await p.add()).toBe(true);
    expect(p.addError).toBeNull();
    expect(p.lastAdd?.proxy.definition.name).toBe('front');
  });
});

describe('FaultDraft', () => {
  it('holds only the faults the user changed since it was made or last applied', () => {
    const d = new FaultDraft({ ...NO_FAULTS, latencyMs: 100, dropIn: 0.123, bandwidth: 4096 });
    expect(d.settings()).toEqual({});
    d.dropOutPct = 50;
    d.refuse = true;
    expect(d.settings()).toEqual({ dropOut: 0.5, refuseStatus: 503 });
    d.applied();
    expect(d.settings()).toEqual({});
    d.throttle = false;
    d.refuseStatus = 429;
    expect(d.settings()).toEqual({ bandwidth: null, refuseStatus: 429 });
    // Everything the form shows is still there for the "did the user type?" check.
    expect(d.values()).toEqual({
      latencyMs: 100,
      jitterMs: 0,
      dropIn: expect.closeTo(0.123, 10),
      dropOut: 0.5,
      refuseStatus: 429,
      bandwidth: null,
    });
  });
});
