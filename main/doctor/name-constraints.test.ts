import { describe, expect, it } from 'vitest';
import { outsideConstraints } from './name-constraints';

describe('outsideConstraints', () => {
  const permitted = ['localhost', '.test', '127.0.0.0/8', '::1/128', '192.168.0.0/16'];
  it('permits names and addresses inside the subtrees', () => {
    expect(
      outsideConstraints(
        ['localhost', 'app.test', 'a.b.test', '127.0.0.1', '::1', '192.168.4.2'],
        permitted,
      ),
    ).toEqual([]);
  });
  it('names each name outside them', () => {
    expect(
      outsideConstraints(
        ['example.com', 'test', 'app.test', '10.0.0.1', 'localhost.evil.com'],
        permitted,
      ),
    ).toEqual(['example.com', 'test', '10.0.0.1', 'localhost.evil.com']);
  });
  it('treats "x" as x and its subdomains, ".x" as subdomains only, and leaves an unconstrained type alone', () => {
    expect(outsideConstraints(['sub.localhost'], ['localhost'])).toEqual([]);
    expect(outsideConstraints(['test'], ['.test'])).toEqual(['test']);
    expect(outsideConstraints(['10.1.2.3'], ['localhost'])).toEqual([]);
    expect(outsideConstraints(['anything.com'], ['10.0.0.0/8'])).toEqual([]);
  });
});
