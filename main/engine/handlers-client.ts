// client.*: a WebSocket client living in the engine, for what the browser's WebSocket cannot do (send a
// ping, close with any code). Bounded: at most 16 clients, previews of 64 KiB, everything closed on quit.
import { randomBytes } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { WebSocket } from 'ws';
import type { ClientEvent } from '../../shared/api';
import { failure, inputError, q } from '../../shared/errors';
import { getLeaf, loadCa, readLeafKeyPem } from '../pki';
import { certUsages } from './dto';
import type { Handlers } from './dispatch';
import type { EngineDeps } from './deps';

const MAX_CLIENTS = 16;
const PREVIEW = 64 * 1024;
const HANDSHAKE_TIMEOUT_MS = 10_000;

type ClientNames = 'client.connect' | 'client.send' | 'client.ping' | 'client.close';

export interface ClientPart {
  handlers: Pick<Handlers, ClientNames>;
  close(): void;
}

export function clientHandlers(d: EngineDeps): ClientPart {
  const clients = new Map<string, WebSocket>();
  const emit = (e: Omit<ClientEvent, 'time'>) =>
    d.hub.emit('client.events', { events: [{ time: Date.now(), ...e }] });
  const get = (clientId: string, action: string): WebSocket => {
    const ws = clients.get(clientId);
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      throw inputError('CLIENT_NOT_FOUND', action, `no open client ${q(clientId)}`, {
        field: 'clientId',
        hint: 'connect first with client.connect',
      });
    }
    return ws;
  };

  return {
    handlers: {
      'client.connect': ({ url, protocols, caTrust, clientCertId }) => {
        let u: URL;
        try {
          u = new URL(url);
        } catch {
          u = new URL('invalid:');
        }
        if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
          throw inputError(
            'INVALID_INPUT',
            `connect to ${q(url)}`,
            'the URL must start with ws:// or wss://',
            {
              field: 'url',
              hint: 'e.g. "wss://localhost:8443/"',
            },
          );
        }
        if (clients.size >= MAX_CLIENTS) {
          throw inputError(
            'TOO_MANY_CLIENTS',
            `connect to ${q(url)}`,
            `${MAX_CLIENTS} clients are open`,
            {
              hint: 'close one with client.close',
            },
          );
        }
        const ca = caTrust === 'system' ? undefined : loadCaPem(d);
        const mtls = clientCertId ? clientCertFor(d, clientCertId, url) : undefined;
        const clientId = `c-${randomBytes(4).toString('hex')}`;
        const ws = new WebSocket(url, protocols ?? [], {
          handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
          ...(ca ? { ca: [...rootCertificates, ca] } : {}),
          ...(mtls ?? {}),
        });
        clients.set(clientId, ws);
        return new Promise((resolve, reject) => {
          let opened = false;
          ws.on('open', () => {
            opened = true;
            emit({ clientId, type: 'open' });
            resolve({ clientId, protocol: ws.protocol, extensions: ws.extensions });
          });
          ws.on('message', (data, isBinary) => {
            const buf = Array.isArray(data)
              ? Buffer.concat(data)
              : Buffer.from(data as ArrayBuffer);
            const head = buf.subarray(0, PREVIEW);
            emit({
              clientId,
              type: 'message',
              opcode: isBinary ? 'binary' : 'text',
              ...(isBinary
                ? { dataBase64: head.toString('base64') }
                : { text: head.toString('utf8') }),
              length: buf.length,
              truncated: buf.length > PREVIEW,
            });
          });
          ws.on('pong', (data) =>
            emit({
              clientId,
              type: 'pong',
              dataBase64: data.toString('base64'),
              length: data.length,
            }),
          );
          ws.on('close', (code, reason) => {
            clients.delete(clientId);
            if (opened) emit({ clientId, type: 'close', code, reason: reason.toString() });
          });
          // A refused upgrade (403 from an mTLS or Origin check, 404 path): say what the server said.
          ws.on('unexpected-response', (_req, res) => {
            // At most 1 KiB of the body, and not forever: a server could stream it without end.
            let body = '';
            let done = false;
            const finish = () => {
              if (done) return;
              done = true;
              clearTimeout(timer);
              res.destroy();
              clients.delete(clientId);
              ws.terminate();
              const said = body.trim().slice(0, 1024);
              reject(
                failure(
                  'CLIENT_CONNECT_FAILED',
                  `connect to ${q(url)}`,
                  `the server answered ${res.statusCode ?? '?'} instead of upgrading${said ? `: ${said}` : ''}`,
                  `run the doctor on ${q(url)} to see which step fails`,
                ),
              );
            };
            const timer = setTimeout(finish, 2_000);
            res.setEncoding('utf8');
            res.on('data', (c: string) => {
              body += c;
              if (body.length >= 1024) finish();
            });
            res.on('end', finish);
            res.on('error', finish);
          });
          ws.on('error', (e) => {
            if (opened) return emit({ clientId, type: 'error', message: e.message });
            clients.delete(clientId);
            reject(
              failure(
                'CLIENT_CONNECT_FAILED',
                `connect to ${q(url)}`,
                e.message,
                `run the doctor on ${q(url)} to see which step fails`,
              ),
            );
          });
        });
      },
      'client.send': ({ clientId, text, dataBase64 }) => {
        const ws = get(clientId, 'send message');
        if (text !== undefined) ws.send(text);
        else ws.send(Buffer.from(dataBase64 ?? '', 'base64'), { binary: true });
        return { ok: true };
      },
      'client.ping': ({ clientId, dataBase64 }) => {
        const ws = get(clientId, 'send ping');
        const payload = Buffer.from(dataBase64 ?? '', 'base64');
        if (payload.length > 125) {
          throw inputError('INVALID_INPUT', 'send ping', `the payload is ${payload.length} bytes`, {
            field: 'dataBase64',
            hint: 'a ping carries at most 125 bytes (RFC 6455 5.5)',
          });
        }
        ws.ping(payload);
        return { ok: true };
      },
      'client.close': ({ clientId, code, reason }) => {
        const ws = get(clientId, 'close client');
        try {
          ws.close(code ?? 1000, reason ?? '');
        } catch (e) {
          throw inputError(
            'INVALID_INPUT',
            'close client',
            e instanceof Error ? e.message : String(e),
            {
              field: 'code',
              hint: 'use 1000, or 3000 to 4999 for application codes',
            },
          );
        }
        return { ok: true };
      },
    },
    close() {
      for (const ws of clients.values()) ws.terminate();
      clients.clear();
    },
  };
}

/** Certificate and key of a stored leaf to present as a client certificate; it must allow client auth. */
function clientCertFor(d: EngineDeps, id: string, url: string): { cert: string; key: string } {
  const leaf = getLeaf(d.store, id);
  if (!certUsages(leaf.certPem).extKeyUsage.includes('clientAuth')) {
    throw inputError(
      'INVALID_INPUT',
      `connect to ${q(url)}`,
      `certificate ${q(id)} is not for client authentication`,
      {
        field: 'clientCertId',
        value: id,
        hint: 'issue one with "wss-studio cert issue --client NAME" (Certificates: "Also a client certificate (mTLS)")',
      },
    );
  }
  return { cert: leaf.certPem, key: readLeafKeyPem(d.store, id) };
}

function loadCaPem(d: EngineDeps): string | undefined {
  try {
    return loadCa(d.store)?.certPem;
  } catch {
    return undefined;
  }
}
