import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { isWssError } from '../../shared/errors';
import { bindListener } from './listen';

const who = { scheme: 'ws' as const, host: '127.0.0.1', name: 'bind test' };

describe('bindListener', () => {
  it('resolves the bound port of a port-0 listen, and a later server error does not crash', async () => {
    const s = net.createServer();
    let undone = 0;
    const port = await bindListener(s, who, 0, () => undone++);
    try {
      expect(port).toBe((s.address() as net.AddressInfo).port);
      expect(port).toBeGreaterThan(0);
      expect(undone).toBe(0);
      // Without the listener bindListener adds, an 'error' event with no handler throws.
      expect(() => s.emit('error', new Error('EMFILE on accept'))).not.toThrow();
      expect(s.listening).toBe(true);
    } finally {
      await new Promise((r) => s.close(r));
    }
  });

  it('a busy port: undo runs once, nothing listens, and the error names the port, host and server', async () => {
    const blocker = net.createServer();
    const busy = await bindListener(blocker, who, 0, () => undefined);
    try {
      const s = net.createServer();
      let undone = 0;
      const err = await bindListener(s, who, busy, () => undone++).catch((e: unknown) => e);
      expect(isWssError(err) && err.code).toBe('PORT_IN_USE');
      expect((err as Error).message).toBe(
        `failed to start ws server "bind test" on "127.0.0.1:${busy}": port ${busy} is already in use on "127.0.0.1"`,
      );
      expect(undone).toBe(1);
      expect(s.listening).toBe(false);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
