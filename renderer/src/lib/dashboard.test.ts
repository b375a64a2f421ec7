import { describe, expect, it } from 'vitest';
import type { CaDto, LeafDto, ServerDto, TrustStoreStatus } from '../../../shared/api';
import { displayUrl, expiringSoon, labUrl, setupDone, trustSummary } from './dashboard';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function server(over: Partial<ServerDto> & { scheme?: 'ws' | 'wss' } = {}): ServerDto {
  const scheme = over.scheme ?? 'wss';
  return {
    id: 's1',
    state: 'running',
    connections: 0,
    url: `${scheme}://127.0.0.1:8443/`,
    labUrl: `${scheme === 'wss' ? 'https' : 'http'}://127.0.0.1:8443/`,
    ...over,
    definition: { name: 'echo', scheme, certId: 'c1' } as ServerDto['definition'],
  };
}
const leaf = (names: string[], notAfter = iso(NOW + 200 * DAY), id = 'c1') =>
  ({ id, names, notAfter }) as LeafDto;
const ca = (notAfter = iso(NOW + 3000 * DAY)) => ({ commonName: 'Test CA', notAfter }) as CaDto;
const store = (state: TrustStoreStatus['state']) => ({ state }) as TrustStoreStatus;

describe('dashboard helpers', () => {
  it('shows localhost for a loopback server whose certificate names localhost, the bound address otherwise', () => {
    expect(displayUrl(server(), leaf(['localhost', '127.0.0.1']))).toBe('wss://localhost:8443/');
    // A certificate only for 127.0.0.1: localhost would fail the name check, keep the IP.
    expect(displayUrl(server(), leaf(['127.0.0.1']))).toBe('wss://127.0.0.1:8443/');
    expect(displayUrl(server({ scheme: 'ws' }))).toBe('ws://localhost:8443/');
    expect(displayUrl(server({ state: 'stopped', url: undefined }))).toBeNull();
  });

  it('finds the lab page, from labUrl or derived from the ws URL', () => {
    expect(labUrl(server())).toBe('https://localhost:8443/');
    expect(labUrl(server({ labUrl: undefined, url: 'ws://127.0.0.1:9000/echo' }))).toBe(
      'http://localhost:9000/',
    );
    expect(labUrl(server({ labUrl: undefined, url: undefined }))).toBeNull();
  });

  it('lists what expires within 30 days or has expired, soonest first, CA included', () => {
    const list = expiringSoon(
      ca(iso(NOW + 10 * DAY)),
      [
        leaf(['a.test'], iso(NOW + 20 * DAY), 'a'),
        leaf(['b.test'], iso(NOW - DAY), 'b'),
        leaf(['c.test'], iso(NOW + 31 * DAY), 'c'),
      ],
      NOW,
    );
    expect(list.map((x) => [x.id, x.expired])).toEqual([
      ['b', true],
      ['ca', false],
      ['a', false],
    ]);
    expect(expiringSoon(null, [], NOW)).toEqual([]);
  });

  it('calls setup done only with a CA, a running wss server and trust somewhere (or not known yet)', () => {
    expect(setupDone(ca(), [server()], [store('trusted'), store('not-trusted')])).toBe(true);
    expect(setupDone(ca(), [server()], [])).toBe(true);
    expect(setupDone(ca(), [server()], [store('not-trusted')])).toBe(false);
    expect(setupDone(null, [server()], [store('trusted')])).toBe(false);
    expect(setupDone(ca(), [server({ state: 'stopped' })], [store('trusted')])).toBe(false);
    expect(setupDone(ca(), [server({ scheme: 'ws' })], [store('trusted')])).toBe(false);
  });

  it('summarises trust over the stores present on this machine', () => {
    expect(trustSummary([store('trusted'), store('not-present')]).text).toBe(
      'trusted in all 1 store',
    );
    expect(trustSummary([store('trusted'), store('not-trusted'), store('error')]).text).toBe(
      'trusted in 1 of 3 stores',
    );
    expect(trustSummary([store('not-present')]).text).toBe('no trust store detected');
  });
});
