// h1-client.ts against raw TCP targets that write every byte of their answers: the kinds of answer HTTP/1.1
// has (length, chunked, close-delimited, HEAD, 1xx, no-body statuses), the broken ones (cut, invalid, extra
// bytes), and which sockets the pool keeps for the next request and which it gives up.
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../echo/testing';
import { ask, GET, ok, poolTo, rawTarget, sleep } from './h1-client-testing';
import { useTestbed } from './testing';

const bed = useTestbed();

/** 40 header lines X-0 ... X-39 (llhttp hands more than 32 over in parts). */
const many = (tag: string) =>
  Array.from({ length: 40 }, (_, i) => `X-${i}: ${tag}${i}\r\n`).join('');
const manyRaw = (tag: string) =>
  Array.from({ length: 40 }, (_, i) => [`X-${i}`, `${tag}${i}`]).flat();

describe('answers', () => {
  it('Content-Length and chunked (with trailers) answers end whole; both keep the socket', async () => {
    const t = await rawTarget(bed, (s) => {
      if (s.bytesWritten === 0) return void s.write(ok('hello'));
      s.write(
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n' +
          '3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-T: 1\r\n\r\n',
      );
    });
    const pool = poolTo(bed, t.port);
    const a = await ask(pool).done;
    expect([a.outcome, a.status, a.message, a.headers, a.body]).toEqual([
      'end',
      200,
      'OK',
      ['Content-Length', '5'],
      'hello',
    ]);
    const b = await ask(pool).done;
    expect([b.outcome, b.body]).toEqual(['end', 'abcdefg']);
    expect(b.headers).toEqual(['Transfer-Encoding', 'chunked', 'Trailer', 'X-T']);
    expect((await ask(pool).done).body).toBe('abcdefg');
    expect(t.conns()).toBe(1);
  });

  it('an HTTP/1.0 answer without a length ends with the connection, which is not reused', async () => {
    const t = await rawTarget(bed, (s) => s.end('HTTP/1.0 200 OK\r\nX: y\r\n\r\nall of it'));
    const pool = poolTo(bed, t.port);
    const a = await ask(pool).done;
    expect([a.outcome, a.status, a.body]).toEqual(['end', 200, 'all of it']);
    expect((await ask(pool).done).body).toBe('all of it');
    expect(t.conns()).toBe(2);
  });

  it('HEAD with a Content-Length, 204 and 304: no body read, the next answer on the socket is intact', async () => {
    const answers = [
      'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n',
      'HTTP/1.1 204 No Content\r\n\r\n',
      'HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n',
      ok('next'),
    ];
    const t = await rawTarget(bed, (s) => s.write(answers.shift()!));
    const pool = poolTo(bed, t.port);
    const h = await ask(pool, { isHead: true, head: 'HEAD / HTTP/1.1\r\nHost: t\r\n\r\n' }).done;
    expect([h.outcome, h.status, h.body, h.headers]).toEqual([
      'end',
      200,
      '',
      ['Content-Length', '1000'],
    ]);
    expect(await ask(pool).done).toMatchObject({ outcome: 'end', status: 204, body: '' });
    expect(await ask(pool).done).toMatchObject({ outcome: 'end', status: 304, body: '' });
    expect(await ask(pool).done).toMatchObject({ outcome: 'end', status: 200, body: 'next' });
    expect(t.conns()).toBe(1);
  });

  it('100, 102 and two 103s come as info() in order before the final answer', async () => {
    const t = await rawTarget(bed, (s) => {
      s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n');
      s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n');
      setTimeout(() => {
        s.write('HTTP/1.1 103 Early Hints\r\nLink: </b.js>; rel=preload\r\nX: 1\r\n\r\n');
        s.write(ok('done'));
      }, 20);
    });
    const pool = poolTo(bed, t.port);
    const a = await ask(pool).done;
    expect(a.infos).toEqual([
      [100, []],
      [102, []],
      [103, ['Link', '</a.css>; rel=preload']],
      [103, ['Link', '</b.js>; rel=preload', 'X', '1']],
    ]);
    expect([a.outcome, a.status, a.body]).toEqual(['end', 200, 'done']);
  });

  it('101 to a plain request: switched(), and the socket is not reused', async () => {
    const t = await rawTarget(bed, (s, _h, c) =>
      s.write(
        c === 1
          ? 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n'
          : ok('2'),
      ),
    );
    const pool = poolTo(bed, t.port);
    expect(await ask(pool).done).toMatchObject({ outcome: 'switched', switched: 101 });
    expect((await ask(pool).done).body).toBe('2');
    expect(t.conns()).toBe(2);
  });

  it('more than 32 header lines (handed over in parts) all arrive in order, on a 1xx, an answer and the next', async () => {
    const t = await rawTarget(bed, (s, _h, c) => {
      s.write(`HTTP/1.1 103 Early Hints\r\n${many('i')}\r\n`);
      s.write(`HTTP/1.1 200 OK\r\n${many(`c${c}-`)}Content-Length: 1\r\n\r\na`);
    });
    const pool = poolTo(bed, t.port);
    const a = await ask(pool).done;
    expect(a.infos).toEqual([[103, manyRaw('i')]]);
    expect(a.headers).toEqual([...manyRaw('c1-'), 'Content-Length', '1']);
    const b = await ask(pool).done;
    expect(b.headers).toEqual([...manyRaw('c1-'), 'Content-Length', '1']);
    expect(b.infos).toEqual([[103, manyRaw('i')]]);
    expect(t.conns()).toBe(1);
  });

  it('invalid HTTP: an HPE_* error with the bytes it came in (rawPacket); a status line of 000 reaches head()', async () => {
    const answers = [
      'SSH-2.0-OpenSSH_9.6\r\n',
      'HTTP/1.1 200 OK\r\nBad Header\r\n\r\n',
      ok('x').replace('200', '000'),
    ];
    const t = await rawTarget(bed, (s) => s.write(answers.shift()!));
    const pool = poolTo(bed, t.port);
    const a = await ask(pool).done;
    expect(a.outcome).toBe('error');
    expect(a.error?.code).toMatch(/^HPE_/);
    expect(a.error?.rawPacket?.toString('latin1')).toBe('SSH-2.0-OpenSSH_9.6\r\n');
    const b = await ask(pool).done;
    expect([b.outcome, b.error?.code]).toEqual(['error', 'HPE_INVALID_HEADER_TOKEN']);
    // proxy-server refuses it (proxy-attack.test.ts: the 502 page)
    expect(await ask(pool).done).toMatchObject({ outcome: 'end', status: 0 });
  });

  it('an answer cut mid-body (length or chunked) is an error, never a short body that ended', async () => {
    const answers = [
      'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n',
    ];
    const t = await rawTarget(bed, (s) => s.end(answers.shift()!));
    const pool = poolTo(bed, t.port);
    for (const body of ['only this', 'abcde', '']) {
      const a = await ask(pool).done;
      expect([a.outcome, a.status, a.body]).toEqual(['error', 200, body]);
    }
  });

  it('bytes after a whole answer (another answer, or part of one): that socket is not reused', async () => {
    const stray = [ok('evil'), 'HTTP/1.1 2', 'x'];
    const t = await rawTarget(bed, (s, _h, c) => {
      s.write(c <= stray.length ? ok('good') + stray[c - 1] : ok('good'));
    });
    const pool = poolTo(bed, t.port);
    for (let i = 0; i < stray.length; i++) {
      const a = await ask(pool).done;
      expect([a.outcome, a.body]).toEqual(['end', 'good']);
    }
    expect((await ask(pool).done).body).toBe('good');
    expect(t.conns()).toBe(4);
  });
});

describe('the pool', () => {
  it('Connection: close from the target, or an HTTP/1.0 answer: a new connection for the next request', async () => {
    const answers = [
      ok('a', 'Connection: close\r\n'),
      'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb',
      ok('c'),
    ];
    const t = await rawTarget(bed, (s) => s.write(answers.shift()!));
    const pool = poolTo(bed, t.port);
    let body = '';
    for (let i = 0; i < 3; i++) body += (await ask(pool).done).body;
    expect(body).toBe('abc');
    expect(t.conns()).toBe(3);
  });

  it('Keep-Alive: timeout=N: the socket is given up before the target would (timeout=1 after 500 ms, 0 at once)', async () => {
    const t = await rawTarget(bed, (s, _h, c) =>
      s.write(ok('k', c === 1 ? 'Keep-Alive: timeout=1\r\n' : 'Keep-Alive: timeout=0\r\n')),
    );
    const pool = poolTo(bed, t.port);
    await ask(pool).done;
    expect(pool.size).toBe(1);
    await sleep(900);
    // It kept the socket for 1000 ms, as long as the target: a request sent then met the target's close.
    expect(pool.size).toBe(0);
    await ask(pool).done;
    await waitFor(() => pool.size === 0, 'pool.size === 0', 200);
    await ask(pool).done;
    expect(t.conns()).toBe(3);
  });

  it('a free socket the target closed: the next request goes on a fresh one', async () => {
    const t = await rawTarget(bed, (s, _h, c) => {
      s.write(ok(String(c)));
      if (c === 1) setTimeout(() => s.destroy(), 50);
    });
    const pool = poolTo(bed, t.port);
    expect((await ask(pool).done).body).toBe('1');
    await waitFor(() => pool.size === 0, 'pool.size === 0', 1000);
    expect((await ask(pool).done).body).toBe('2');
  });

  it('a free socket left paused by a slow client: bytes the target sends on it later are not the next answer', async () => {
    const t = await rawTarget(bed, (s, _h, c) => {
      s.write(ok(`good${c}`));
      if (c === 1) setTimeout(() => s.write(ok('evil')), 50);
    });
    const pool = poolTo(bed, t.port);
    // data() returned false for the last chunk: the socket was paused when it went back to the pool.
    const a = await ask(pool, { pause: true }).done;
    expect([a.outcome, a.body]).toEqual(['end', 'good1']);
    await sleep(150);
    expect((await ask(pool).done).body).toBe('good2');
    expect(t.conns()).toBe(2);
  });

  it('a reused socket the target reset: a bodyless request is sent once more, one with a body is not', async () => {
    const t = await rawTarget(bed, (s, _h, c) => {
      // Each connection answers its first request and hangs up on the second without a word.
      if (s.bytesWritten === 0) s.write(ok(`c${c}`));
      else s.destroy();
    });
    const pool = poolTo(bed, t.port);
    expect((await ask(pool).done).body).toBe('c1');
    const retried = await ask(pool).done;
    expect([retried.outcome, retried.body]).toEqual(['end', 'c2']);
    const post = 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n';
    const p = ask(pool, { head: post, bodyless: false });
    p.x.write(Buffer.from('hi'), () => {});
    p.x.end();
    const a = await p.done;
    expect([a.outcome, a.error?.code]).toEqual(['error', 'ECONNRESET']);
    expect(t.conns()).toBe(2);
  });

  it('at most 256 sockets: more requests wait for one (a body written meanwhile is held), then reuse them', async () => {
    const held: net.Socket[] = [];
    let body = '';
    const t = await rawTarget(bed, (s, head) => {
      if (!/^[A-Z]+ \//.test(head)) {
        body += head; // the chunked body of the POST, not a request
        return void s.write(ok('posted'));
      }
      if (head.startsWith('POST')) return;
      if (held.length < 256) {
        held.push(s);
        if (held.length === 256) for (const w of held) w.write(ok('.'));
      } else s.write(ok('.'));
    });
    const pool = poolTo(bed, t.port);
    const gets = Array.from({ length: 299 }, () => ask(pool).done);
    const post = ask(pool, {
      head: 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n',
      bodyless: false,
      chunked: true,
    });
    let drained = false;
    const wrote = post.x.write(Buffer.from('hel'), () => (drained = true));
    // a caller that writes on regardless: nothing is lost
    post.x.write(Buffer.from('lo'), () => (drained = true));
    post.x.end();
    expect(wrote).toBe(false);
    const all = await Promise.all(gets);
    expect(all.every((a) => a.body === '.')).toBe(true);
    expect((await post.done).body).toBe('posted');
    expect([body, drained]).toEqual(['3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n', true]);
    expect(t.conns()).toBe(256);
    expect(pool.size).toBe(256);
  });

  it('waiting requests get a new socket as others close; one aborted is skipped; destroy() fails the rest', async () => {
    const held: net.Socket[] = [];
    const t = await rawTarget(bed, (s, head) => {
      if (head.startsWith('GET /hold')) return void held.push(s);
      s.end(ok('closing', 'Connection: close\r\n'));
    });
    const pool = poolTo(bed, t.port);
    const busy = Array.from(
      { length: 256 },
      () => ask(pool, { head: 'GET /hold HTTP/1.1\r\n\r\n' }).done,
    );
    await waitFor(() => held.length === 256, '256 held', 3000);
    const gone = ask(pool);
    const next = ask(pool).done;
    const stuck = ask(pool, { head: 'GET /hold HTTP/1.1\r\n\r\n' }).done;
    const last = ask(pool).done;
    gone.x.abort();
    for (const s of held.splice(0, 2)) s.end(ok('closing', 'Connection: close\r\n'));
    // Two sockets closed: one for `next`, one for `stuck`; then `next`'s own closes: one for `last`.
    expect((await next).body).toBe('closing');
    expect((await last).body).toBe('closing');
    await waitFor(() => held.length === 255, 'the waiting GET /hold sent', 3000);
    const fill = ask(pool, { head: 'GET /hold HTTP/1.1\r\n\r\n' }).done;
    const queued = ask(pool).done;
    await waitFor(() => held.length === 256, 'the 256th socket busy', 3000);
    pool.destroy();
    expect((await stuck).outcome).toBe('error');
    expect((await fill).outcome).toBe('error');
    expect(await queued).toMatchObject({ outcome: 'error', error: { code: 'ECONNRESET' } });
    await Promise.all(busy);
    expect(t.conns()).toBe(260);
  });

  it('destroy() closes busy and free sockets; a request then fails at once', async () => {
    const t = await rawTarget(bed, (s, h) => {
      if (h.startsWith('GET /now')) s.write(ok('now'));
    });
    const pool = poolTo(bed, t.port);
    await ask(pool, { head: 'GET /now HTTP/1.1\r\n\r\n' }).done;
    const hanging = ask(pool, { head: 'GET /never HTTP/1.1\r\n\r\n' }).done;
    const free = ask(pool, { head: 'GET /now HTTP/1.1\r\n\r\n' }).done;
    await free;
    expect(pool.size).toBe(2);
    pool.destroy();
    expect((await hanging).outcome).toBe('error');
    await waitFor(
      () => pool.size === 0 && t.open() === 0,
      'pool.size === 0 && t.open() === 0',
      1000,
    );
    expect(await ask(pool).done).toMatchObject({ outcome: 'error', error: { code: 'ECONNRESET' } });
  });

  it('a target that accepts and never answers: the request waits (no timeout, as with http.request before)', async () => {
    const t = await rawTarget(bed, () => {});
    const pool = poolTo(bed, t.port);
    let settled = false;
    void ask(pool).done.then(() => (settled = true));
    await sleep(500);
    expect([settled, pool.size, t.open()]).toEqual([false, 1, 1]);
  });

  it('data() returning false pauses the target socket (one chunk at most gets through); resume() goes on', async () => {
    const big = 'z'.repeat(8 << 20);
    const t = await rawTarget(bed, (s, h) => s.write(ok(h.startsWith('GET /big') ? big : 'small')));
    const pool = poolTo(bed, t.port);
    await ask(pool, { pause: true }).done;
    let got = 0;
    const second = ask(pool, {
      head: 'GET /big HTTP/1.1\r\n\r\n',
      pause: true,
      onData: (c) => (got += c.length),
    });
    await sleep(300);
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(1 << 20);
    expect(t.conns()).toBe(1);
    const drain = setInterval(() => second.x.resume(), 5);
    const a = await second.done;
    clearInterval(drain);
    expect(a.body.length).toBe(big.length);
  });

  it('a handler that throws inside a parser callback: error() for that request, the socket not reused', async () => {
    const t = await rawTarget(bed, (s, _h, c) => s.write(ok(`body${c}`)));
    const pool = poolTo(bed, t.port);
    const a = await ask(pool, {
      onData: () => {
        throw new Error('handler bug');
      },
    }).done;
    expect([a.outcome, a.error?.message]).toEqual(['error', 'handler bug']);
    expect((await ask(pool, { head: GET }).done).body).toBe('body2');
  });
});
