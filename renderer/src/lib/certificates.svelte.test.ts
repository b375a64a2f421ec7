// The certificate issue form with a fake engine: names are checked by the engine after a pause (only the
// newest answer counts), an issue sends only what the user chose, the new certificate shows at once from
// the engine's answer, and the list is reloaded by store.changed only, never by the form.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LeafDto, NameVerdict } from '../../../shared/api';
import { IssueForm } from './certificates.svelte';
import { Studio } from './studio.svelte';
import { fakeEngine } from './testing';

afterEach(() => vi.useRealTimers());

const leaf = (id: string, names: string[]): LeafDto =>
  ({ id, names, notAfter: '2027-01-01T00:00:00.000Z' }) as LeafDto;

async function rig(check: (names: string[]) => NameVerdict[] | Promise<NameVerdict[]>) {
  const eng = fakeEngine({
    'app.info': () => ({}) as never,
    'ca.get': () => null,
    'cert.list': () => [],
    'server.list': () => [],
    'names.check': ({ names }: { names: string[] }) => check(names),
    'cert.issue': ({ names }: { names: string[] }) => ({
      leaf: leaf('localhost', names),
      warnings: ['a warning'],
    }),
  });
  const studio = new Studio(eng.api);
  await studio.start();
  return { eng, studio, form: new IssueForm(studio) };
}

describe('IssueForm', () => {
  it('checks names with the engine after a pause, and an empty field at once', async () => {
    vi.useFakeTimers();
    const { eng, form } = await rig((names) =>
      names.map((n) =>
        n === 'https://x' ? { input: n, error: 'URL, not a host name' } : { input: n },
      ),
    );
    form.setText('localhost, https://x');
    expect(form.checking).toBe(true);
    expect(form.canSubmit).toBe(false);
    await vi.advanceTimersByTimeAsync(119);
    expect(eng.inputs('names.check')).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(eng.inputs('names.check')).toEqual([{ names: ['localhost', 'https://x'] }]);
    expect(form.checking).toBe(false);
    expect(form.invalid.map((v) => v.input)).toEqual(['https://x']);
    expect(form.canSubmit).toBe(false);
    form.setText('localhost');
    await vi.advanceTimersByTimeAsync(120);
    expect(form.canSubmit).toBe(true);
    form.setText('  ');
    expect(form.checking).toBe(false);
    expect(form.verdicts).toEqual([]);
    expect(eng.inputs('names.check')).toHaveLength(2);
  });

  it('keeps only the newest answer when an older check returns last', async () => {
    const answers: ((v: NameVerdict[]) => void)[] = [];
    const { form } = await rig(() => new Promise((r) => answers.push(r)));
    const first = form.check(['a.test']);
    const second = form.check(['b.test']);
    answers[1]!([{ input: 'b.test' }]);
    await second;
    answers[0]!([{ input: 'a.test', error: 'stale' }]);
    await first;
    expect(form.verdicts).toEqual([{ input: 'b.test' }]);
  });

  it('issues with only the chosen options; the answer shows at once, the list reloads on store.changed', async () => {
    const { eng, studio, form } = await rig((names) => names.map((n) => ({ input: n })));
    expect(await form.submit()).toBeNull();
    expect(form.error?.message).toMatch(/at least one name/);
    form.text = 'localhost 127.0.0.1';
    const issued = await form.submit();
    expect(issued?.id).toBe('localhost');
    form.text = 'app.test';
    form.keyType = 'rsa';
    form.days = 30;
    await form.submit();
    expect(eng.inputs('cert.issue')).toEqual([
      { names: ['localhost', '127.0.0.1'], keyType: 'ecdsa', client: false },
      { names: ['app.test'], keyType: 'rsa', client: false, days: 30 },
    ]);
    expect(form.warnings).toEqual(['a warning']);
    expect(form.text).toBe('');
    // Shown from the answer (one entry per id); no cert.list beyond the first load.
    expect(studio.leaves.map((l) => l.names)).toEqual([['app.test']]);
    expect(eng.inputs('cert.list')).toHaveLength(1);
    eng.push('store.changed', { what: ['certs'] });
    await vi.waitFor(() => expect(eng.inputs('cert.list')).toHaveLength(2));
    await vi.waitFor(() => expect(studio.leaves).toEqual([]));
    studio.stop();
  });
});
