import { describe, expect, it } from 'vitest';
import {
  globalPermits,
  isEffectivelyGlobalPermit,
  isLoopbackBind,
  unconstrainedCaWarning,
} from './permits';

describe('effectively global permit entries', () => {
  it('flags whole-internet ranges and bare public top-level names', () => {
    for (const p of [
      '0.0.0.0/0',
      '::/0',
      '128.0.0.0/1',
      '0.0.0.0/7',
      '2000::/3',
      'com',
      '.com',
      'dev',
      '.',
      ' ',
    ]) {
      expect(isEffectivelyGlobalPermit(p), p).toBe(true);
    }
  });
  it('keeps local names, private ranges and single addresses', () => {
    for (const p of [
      'localhost',
      '.test',
      'test',
      '.internal',
      '.home.arpa',
      'app.example.com',
      '10.0.0.0/8',
      '127.0.0.0/8',
      'fc00::/7',
      '::1/128',
      '192.168.0.0/16',
      '8.8.8.8',
      '::1',
    ]) {
      expect(isEffectivelyGlobalPermit(p), p).toBe(false);
    }
  });
  it('words one warning for an unconstrained CA and for a global permit list', () => {
    expect(
      unconstrainedCaWarning({ constrained: true, permitted: ['.test', '10.0.0.0/8'] }),
    ).toBeUndefined();
    expect(unconstrainedCaWarning({ constrained: false, permitted: [] })).toMatch(/ANY site/);
    expect(unconstrainedCaWarning({ constrained: true, permitted: ['.test', '::/0'] })).toMatch(
      /names include "::\/0"/,
    );
    expect(globalPermits(['.test', 'com', '0.0.0.0/0'])).toEqual(['com', '0.0.0.0/0']);
  });
  it('knows loopback bind addresses', () => {
    for (const h of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.1.2.3'])
      expect(isLoopbackBind(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.2', 'example.com', '127.0.0.1.evil.test'])
      expect(isLoopbackBind(h), h).toBe(false);
  });
});
