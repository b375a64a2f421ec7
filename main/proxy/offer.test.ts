// The doctor's MIXED_CONTENT_BLOCKED answer carries a one-click "front it with wss://" action whose input is
// a valid proxy.add request, and whose new URL is the wss:// form the page should use.
import { describe, expect, it } from 'vitest';
import { validateInput } from '../../shared/api';
import { diagnose } from '../doctor/diagnose';
import { frontWithWss } from './offer';
import { normalizeProxy } from './validation';

describe('front it with wss://', () => {
  it('is offered by the doctor for ws:// to a non-loopback host from an https:// page', async () => {
    const r = await diagnose('ws://app.test:3000/socket?room=1', { origin: 'https://app.test' });
    const step = r.steps.find((s) => s.code === 'MIXED_CONTENT_BLOCKED');
    expect(step?.action).toEqual({
      kind: 'proxy.add',
      label: 'Front it with wss://',
      input: { publicUrl: 'https://app.test:8443', target: 'http://localhost:3000', start: true },
      newUrl: 'wss://app.test:8443/socket?room=1',
    });
    const v = validateInput('proxy.add', step?.action?.input);
    expect(v.ok).toBe(true);
    expect(normalizeProxy(step!.action!.input).publicUrl).toBe('https://app.test:8443');
  });

  it('is not offered when loopback makes ws:// allowed (only a warning)', async () => {
    const r = await diagnose('ws://127.0.0.1:1/', { origin: 'https://localhost', timeoutMs: 500 });
    expect(r.steps.some((s) => s.action)).toBe(false);
  });

  it('moves off the target port and brackets IPv6 hosts', () => {
    expect(frontWithWss({ host: '192.168.1.5', port: 8443, path: '/' }).input.publicUrl).toBe(
      'https://192.168.1.5:9443',
    );
    expect(frontWithWss({ host: 'fd00::5', port: 3000, path: '/ws' })).toMatchObject({
      input: { publicUrl: 'https://[fd00::5]:8443', target: 'http://[fd00::5]:3000' },
      newUrl: 'wss://[fd00::5]:8443/ws',
    });
  });
});
