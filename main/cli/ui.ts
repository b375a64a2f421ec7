// CLI commands for "wss-studio ui ...": web mode, the desktop UI in your browser.
import { bool, intOpt, str } from './args';
import type { Command } from './command';
import { createEngine } from '../engine';
import { buildHint, findRendererDir, openBrowser, startWebServer } from '../web';
import { isLoopbackHost } from '../web/security';

export const commands: Command[] = [
  {
    path: ['ui'],
    summary:
      'open the WSS Studio UI in your browser (web mode, for when the desktop app cannot run)',
    options: {
      port: { type: 'string', value: 'N', help: 'port to listen on (default 0: a free port)' },
      host: {
        type: 'string',
        value: 'ADDR',
        help: 'address to bind (default 127.0.0.1; anything else exposes the UI to that network)',
      },
      'no-open': { type: 'boolean', help: 'print the URL, do not open a browser' },
    },
    details: [
      'Serves the built UI on http://127.0.0.1:PORT and the engine API over a WebSocket on the same port.',
      'The printed URL carries a random per-run token; requests without it, with a foreign Host or a',
      'foreign Origin are refused. Stop with Ctrl-C (running echo servers stop too).',
    ].join('\n'),
    async run(p, io) {
      const port = intOpt(p, 'port', 0, 65535, 'wss-studio ui') ?? 0;
      const host = str(p, 'host') ?? '127.0.0.1';
      const explicitHost = str(p, 'host') !== undefined;
      const renderer = findRendererDir(io.env);
      if (!renderer.built) {
        io.err(`warning: the UI is not built (${renderer.dir} has no index.html)`);
        io.err(`hint: ${buildHint(renderer.dir)}`);
      }
      if (explicitHost && !isLoopbackHost(host)) {
        io.err(
          `warning: binding ${JSON.stringify(host)}: anyone who can reach it and has the token controls your CA and servers`,
        );
      }
      const engine = createEngine({ env: io.env, shell: 'web' });
      let web;
      try {
        web = await startWebServer({
          api: engine,
          rendererDir: renderer.dir,
          host,
          port,
          allowNonLoopback: explicitHost,
        });
      } catch (e) {
        await engine.close();
        throw e;
      }
      try {
        await engine.startEnabledServers();
      } catch (e) {
        io.err(`warning: ${e instanceof Error ? e.message : String(e)}`);
      }
      io.out(`WSS Studio web mode: ${web.url}`);
      io.out('Keep this URL private (it carries the access token). Press Ctrl-C to stop.');
      if (!bool(p, 'no-open') && !(await openBrowser(web.url))) {
        io.err('note: could not start a browser; open the URL above yourself');
      }
      await io.interrupted;
      await web.close();
      await engine.close();
      io.out('stopped');
      return 0;
    },
  },
];
