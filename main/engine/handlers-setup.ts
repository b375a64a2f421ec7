// setup.localhost: "make localhost trusted" as one engine task, for the Overview's button and for
// `wss-studio setup`. CA -> trust -> localhost certificate -> wss:// echo server, one visible step each,
// each made of ordinary requests run through the dispatcher (validated, guarded, confirmed as the calling
// shell would). Re-running is safe: every step reuses what exists (the CA, a valid localhost leaf, its
// server). Each progress update carries every step (`setup`), so the newest update is the whole picture.
import type {
  CaDto,
  LeafDto,
  ParsedInput,
  SetupResult,
  SetupStep,
  SetupStepId,
  TrustStoreStatus,
} from '../../shared/api';
import { subtaskId } from '../../shared/tasks';
import { inputError, isWssError, type WssErrorData } from '../../shared/errors';
import type { CallContext, Handlers } from './dispatch';
import type { CoreDeps } from './deps';
import type { TaskHandle } from './tasks';
import { LOCALHOST_NAMES, reusableLocalhostLeaf, setupStores } from './setup-rules';

const STEP_IDS: SetupStepId[] = ['ca', 'trust', 'cert', 'server'];

function errorData(e: unknown): WssErrorData {
  if (isWssError(e)) return e.toJSON();
  const cause = e instanceof Error ? e.message : String(e);
  return { code: 'INTERNAL', action: 'set up localhost', cause, kind: 'failure' };
}

export function setupHandlers(d: CoreDeps): Pick<Handlers, 'setup.localhost'> {
  return {
    'setup.localhost': (input, ctx) =>
      d.tasks.run('setup.localhost', input.taskId, (t) => setup(d, input, ctx, t)),
  };
}

async function setup(
  d: CoreDeps,
  input: ParsedInput<'setup.localhost'>,
  ctx: CallContext,
  t: TaskHandle,
): Promise<SetupResult> {
  const steps: SetupStep[] = STEP_IDS.map((id) => ({ id, state: 'pending', detail: '' }));
  const set = (id: SetupStepId, patch: Omit<SetupStep, 'id'>) => {
    const i = STEP_IDS.indexOf(id);
    steps[i] = { id, ...patch };
    t.progress(id, { setup: steps.map((s) => ({ ...s })) });
  };
  // Cancelling the setup cancels the step's own task too (CA generation, trust install).
  let inner: string | undefined;
  const onAbort = () => inner && d.tasks.cancel(inner);
  t.signal.addEventListener('abort', onAbort);
  const checkCancelled = () => {
    if (t.signal.aborted) {
      throw inputError('CANCELLED', 'set up localhost', 'cancelled by the user', {
        hint: 'run it again to finish; every step reuses what is already done',
      });
    }
  };
  let current: SetupStepId = 'ca';
  try {
    // 1. CA
    let ca: CaDto | null = await d.request('ca.get', {}, ctx);
    if (ca) {
      set('ca', { state: 'skipped', detail: `using "${ca.commonName}"` });
    } else {
      set('ca', { state: 'running', detail: 'generating the key' });
      inner = subtaskId(t.id, 'ca');
      ca = await d.request(
        'ca.create',
        {
          taskId: inner,
          ...(input.keyType ? { keyType: input.keyType } : {}),
          ...(input.constrained !== undefined ? { constrained: input.constrained } : {}),
        },
        ctx,
      );
      set('ca', { state: 'done', detail: `created "${ca.commonName}"` });
    }
    checkCancelled();

    // 2. Trust, only in the chosen stores that exist here. A failure does not stop the flow: the server
    //    still works for clients given the CA, and the trust badges say what to fix.
    current = 'trust';
    const chosenStores = input.stores ?? setupStores(process.platform);
    let trust: TrustStoreStatus[] = [];
    let sudo: SetupResult['sudo'] = [];
    try {
      ({ trust, sudo } = await trustStep(d, ctx, t, chosenStores, set, (id) => (inner = id)));
    } catch (e) {
      checkCancelled();
      const error = errorData(e);
      set('trust', { state: 'warn', detail: isWssError(e) ? e.message : error.cause, error });
    }
    checkCancelled();

    // 3. A valid leaf for localhost from this CA, else issue one.
    current = 'cert';
    set('cert', { state: 'running', detail: 'looking for an existing certificate' });
    let leaf: LeafDto | undefined = reusableLocalhostLeaf(
      await d.request('cert.list', {}, ctx),
      ca.fingerprint256,
    );
    if (leaf) {
      set('cert', { state: 'skipped', detail: `reusing certificate ${leaf.id}` });
    } else {
      const r = await d.request('cert.issue', { names: LOCALHOST_NAMES }, ctx);
      leaf = r.leaf;
      set('cert', {
        state: r.warnings.length ? 'warn' : 'done',
        detail: r.warnings.length ? r.warnings.join('; ') : `issued ${leaf.id}`,
      });
    }
    const result: SetupResult = { steps, ca, trust, sudo, leaf };
    checkCancelled();

    // 4. A wss server with that leaf: reuse, else add; then start.
    current = 'server';
    if (input.server === false) {
      set('server', {
        state: 'skipped',
        detail: `not asked for: serve it with "wss-studio serve --wss 8443 --cert ${leaf.id}"`,
      });
      return result;
    }
    set('server', { state: 'running', detail: 'starting' });
    const leafId = leaf.id;
    let server =
      (await d.request('server.list', {}, ctx)).find(
        (s) => s.definition.scheme === 'wss' && s.definition.certId === leafId,
      ) ??
      (await d.request(
        'server.add',
        { name: 'localhost (wss)', scheme: 'wss', port: 0, certId: leafId },
        ctx,
      ));
    if (server.state !== 'running')
      server = await d.request('server.start', { id: server.id }, ctx);
    // The server binds 127.0.0.1; show the name the certificate and the browser care about.
    const url = server.url?.replace('//127.0.0.1:', '//localhost:');
    set('server', { state: 'done', detail: url ? `listening at ${url}` : 'running' });
    return { ...result, steps, server, ...(url ? { url } : {}) };
  } catch (e) {
    const error = errorData(e);
    set(current, { state: 'failed', detail: isWssError(e) ? e.message : error.cause, error });
    throw e;
  } finally {
    t.signal.removeEventListener('abort', onAbort);
  }
}

async function trustStep(
  d: CoreDeps,
  ctx: CallContext,
  t: TaskHandle,
  chosenStores: string[],
  set: (id: SetupStepId, patch: Omit<SetupStep, 'id'>) => void,
  started: (taskId: string) => void,
): Promise<{ trust: TrustStoreStatus[]; sudo: SetupResult['sudo'] }> {
  const chosen = (s: TrustStoreStatus) => chosenStores.includes(s.store);
  set('trust', { state: 'running', detail: 'checking stores' });
  let trust = await d.request('trust.status', {}, ctx);
  let sudo: SetupResult['sudo'] = [];
  const wanted = trust.filter(
    (s) => chosen(s) && (s.state === 'not-trusted' || s.state === 'needs-permission'),
  );
  if (wanted.length > 0) {
    set('trust', {
      state: 'running',
      detail: `installing into ${wanted.map((s) => s.label).join(', ')}`,
    });
    const taskId = subtaskId(t.id, 'trust');
    started(taskId);
    const res = await d.request(
      'trust.install',
      { stores: wanted.map((s) => s.store), taskId },
      ctx,
    );
    sudo = (res.privileged ?? [])
      .filter((p) => !p.ran)
      .map((p) => ({ store: p.store, sudo: p.sudo }));
    trust = await d.request('trust.status', {}, ctx).catch(() => res.stores);
  }
  const inChosen = trust.filter((s) => chosen(s) && s.state !== 'not-present');
  const ok = inChosen.filter((s) => s.state === 'trusted');
  const notOk = inChosen.filter((s) => s.state !== 'trusted');
  if (ok.length === 0) {
    set('trust', {
      state: 'warn',
      detail: 'not trusted in any selected store yet: see the badges on the Overview for the fix',
    });
  } else if (notOk.length > 0) {
    set('trust', {
      state: 'warn',
      detail: `trusted in ${ok.map((s) => s.label).join(', ')}; not in ${notOk.map((s) => s.label).join(', ')}`,
    });
  } else {
    set('trust', { state: 'done', detail: `trusted in ${ok.map((s) => s.label).join(', ')}` });
  }
  return { trust, sudo };
}
