// The rules panel of a server card in Chromium (web mode): validation as you type names the path, the bad
// value and the fix; "try a message" shows the matching rule and what it would send; save applies the
// rules to the running server; a periodic push starts and stops; "Send now" reaches one real client and the
// frame log marks it injected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Client } from '../shared/client';
import { shoot, startUi, type UiRig } from './helpers/ui';

let rig: UiRig;
let api: Client;
let serverId: string;
let url: string;

beforeAll(async () => {
  rig = await startUi({ route: '#/servers', viewport: { width: 1280, height: 1100 } });
  api = await rig.api();
  const s = await api.call('server.add', { name: 'rules echo', scheme: 'ws', port: 0 });
  serverId = s.id;
  url = (await api.call('server.start', { id: s.id })).url as string;
  await rig.page.reload();
  await rig.page.getByRole('heading', { level: 1, name: 'Servers' }).waitFor();
}, 180_000);

afterAll(async () => {
  await rig?.close();
});

const RULES = {
  rules: [
    {
      name: 'ping',
      match: { pointer: '/type', value: 'ping' },
      reply: { json: { type: 'pong', id: '{{json.id}}' } },
    },
  ],
  pushes: [{ id: 'tick', everyMs: 100, message: { text: 'tick {{counter}}' } }],
};

describe('rules panel', () => {
  it('validates as you type, tries a message, saves, pushes and sends to one client', async () => {
    const { page } = rig;
    const card = page.locator(`article[data-server="${serverId}"]`);
    await card.getByRole('button', { name: 'Rules & push' }).click();
    const text = card.locator('textarea');
    const check = card.locator('[data-rules-check]');
    const save = card.getByRole('button', { name: 'Save rules' });

    await text.fill('{"rules": [{"match": {"pointer": "type"}}]}');
    await expect
      .poll(() => check.innerText())
      .toMatch(/rules\[0\]\.match\.pointer = "type": is not a JSON Pointer: start it with "\/"/);
    expect(await save.isDisabled()).toBe(true);
    expect(await text.getAttribute('aria-invalid')).toBe('true');

    await text.fill('{"rules": [\n  {"match": }\n]}');
    await expect.poll(() => check.innerText()).toMatch(/JSON syntax error at line 2, column \d+/);

    await text.fill(JSON.stringify(RULES, null, 2));
    await expect.poll(() => check.innerText()).toBe('valid: 1 rule, 0 scripts, 1 push');
    await card.getByLabel('Try a message').fill('{"type":"ping","id":7}');
    await card.getByRole('button', { name: 'Try', exact: true }).click();
    const result = card.locator('[data-try-result]');
    await expect.poll(() => result.innerText()).toMatch(/Matches rules\[0\] ping/);
    expect(await result.innerText()).toContain('{"type":"pong","id":7}');

    await save.click();
    await expect.poll(async () => (await api.call('rules.get', { serverId })).rules).toEqual(RULES);

    // A real client gets the rule's answer, the push and the manual message.
    const got: string[] = [];
    const ws = new WebSocket(url);
    ws.on('message', (d: Buffer) => got.push(d.toString()));
    await new Promise((r) => ws.once('open', r));
    ws.send('{"type":"ping","id":9}');
    await expect.poll(() => got).toContain('{"type":"pong","id":9}');

    const pushRow = card.locator('[data-push="tick"]');
    await pushRow.getByRole('button', { name: 'Start' }).click();
    await expect
      .poll(() => got.filter((g) => g.startsWith('tick')).length, { timeout: 10_000 })
      .toBeGreaterThan(2);
    await pushRow.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => pushRow.innerText()).not.toMatch(/running/);

    const log = await api.call('log.snapshot', {});
    const open = log.events.filter((e) => e.type === 'open').pop() as { conn: number };
    await card.getByLabel('Send now').fill('hello from the UI');
    await card.locator('form.send').getByLabel('connection').fill(String(open.conn));
    await card.getByRole('button', { name: 'Send', exact: true }).click();
    await expect.poll(() => got).toContain('hello from the UI');
    expect(await card.locator('[data-send-result]').innerText()).toBe(
      `sent to connection ${open.conn} (logged as injected)`,
    );
    const after = await api.call('log.snapshot', {});
    expect(
      after.events.find((e) => e.type === 'frame' && e.preview === 'hello from the UI'),
    ).toMatchObject({
      source: 'injected',
      conn: open.conn,
    });
    // Replay a HAR (the shape DevTools exports) to that connection.
    const har = {
      log: {
        entries: [
          {
            request: { url },
            _webSocketMessages: [
              { type: 'receive', time: 1000, opcode: 1, data: 'replayed one' },
              { type: 'receive', time: 1000.05, opcode: 1, data: 'replayed two' },
            ],
          },
        ],
      },
    };
    await card.locator('input[type=file]').setInputFiles({
      name: 'session.har',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(har)),
    });
    await card.locator('form.replay').getByLabel('connection').fill(String(open.conn));
    await card.getByRole('button', { name: 'Replay', exact: true }).click();
    await expect.poll(() => got.slice(-2)).toEqual(['replayed one', 'replayed two']);
    expect(await card.locator('[data-replay-result]').innerText()).toBe(
      `replaying 2 messages of entries[0] ${url} to connection ${open.conn}`,
    );

    await card.getByLabel('Try a message').fill('something else');
    await card.getByRole('button', { name: 'Try', exact: true }).click();
    await expect
      .poll(() => result.innerText())
      .toMatch(/No rule matches: the server's mode \(echo\) handles it/);
    await card.scrollIntoViewIfNeeded();
    await shoot(page, 'server-rules');
    ws.close();
  });

  it('"try a message" takes binary as hex: a hex-prefix rule matches, a text rule does not', async () => {
    const { page } = rig;
    const card = page.locator(`article[data-server="${serverId}"]`);
    const text = card.locator('textarea');
    if (!(await text.isVisible())) await card.getByRole('button', { name: 'Rules & push' }).click();
    await text.fill(
      JSON.stringify({
        rules: [
          { name: 'text', match: { text: 'cafe' }, reply: { text: 'as text' } },
          {
            name: 'bin',
            match: { hexPrefix: 'cafe' },
            reply: { binary: 'be ef {{#randomInt}}1-1{{/randomInt}}0' },
          },
        ],
      }),
    );
    await expect
      .poll(() => card.locator('[data-rules-check]').innerText())
      .toMatch(/^valid: 2 rules/);
    const input = card.getByLabel('Try a message');
    const as = card.getByLabel('Try the message as');
    const result = card.locator('[data-try-result]');
    const tryIt = card.getByRole('button', { name: 'Try', exact: true });

    await input.fill('cafe');
    await tryIt.click();
    await expect.poll(() => result.innerText()).toMatch(/Matches rules\[0\] text/);

    await as.selectOption('hex');
    await input.fill('0xca fe 01');
    await tryIt.click();
    await expect.poll(() => result.innerText()).toMatch(/Matches rules\[1\] bin/);
    expect(await result.innerText()).toContain('binary 3 B: be ef 10');

    await input.fill('ca fe');
    await tryIt.click();
    await expect.poll(() => result.innerText()).toMatch(/Matches rules\[1\] bin/);
    await input.fill('de ad');
    await tryIt.click();
    await expect
      .poll(() => result.innerText())
      .toMatch(/No rule matches: the server's mode \(echo\) handles it/);

    await input.fill('ca fe zz');
    await tryIt.click();
    await expect
      .poll(() => card.locator('[role="alert"]').innerText())
      .toMatch(/try a binary message: "ca fe zz" is not hex \("z" is not a hex digit\)/);
    expect(await result.count()).toBe(0);
    await card.scrollIntoViewIfNeeded();
    await shoot(page, 'server-rules-try-hex');
  });
});
