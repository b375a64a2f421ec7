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
      'allow-unconstrained': {
        type: 'boolean',
        help: 'let the page create, import or trust a CA that can issue for public sites',
      },
      'allow-lan': {
        type: 'boolean',
        help: 'let the page put servers on addresses other machines can reach',
      },
    },
    details: [
      'Serves the built UI on http://127.0.0.1:PORT and the engine API over a WebSocket on the same port.',
      'The printed URL carries a random per-run token; the engine answers only a WebSocket with that token,',
      "our Host and our page's Origin. The page takes the token out of the address bar and keeps it in the tab.",
      'Without --allow-unconstrained the page cannot create an unconstrained (or effectively global) CA,',
      'import an mkcert CA or trust such a CA; without --allow-lan it cannot bind servers beyond loopback.',
      'Stop with Ctrl-C (running echo servers stop too).',
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
      // Safety net: one bad client or one bug in a handler must not take down the echo servers this process
      // runs. Log and keep serving.
      const onCrash = (e: unknown) =>
        io.err(
          `wss-studio: internal error (kept running): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
        );
      process.on('uncaughtException', onCrash);
      process.on('unhandledRejection', onCrash);
      const engine = createEngine({ env: io.env, shell: 'web' });
      let web;
      try {
        web = await startWebServer({
          api: engine,
          rendererDir: renderer.dir,
          host,
          port,
          allowNonLoopback: explicitHost,
          allow: { unconstrained: bool(p, 'allow-unconstrained'), lan: bool(p, 'allow-lan') },
          log: (line) => io.err(line),
        });
      } catch (e) {
        await engine.close();
        process.off('uncaughtException', onCrash);
        process.off('unhandledRejection', onCrash);
        throw e;
      }
      try {
        await engine.startEnabledServers();
      } catch (e) {
        io.err(`warning: ${e instanceof Error ? e.message : String(e)}`);
      }
      io.out(`WSS Studio web mode: ${web.url}`);
      io.out('Keep this URL private (it carries the access token). Press Ctrl-C to stop.');
      const allowed = [
        bool(p, 'allow-unconstrained') && '--allow-unconstrained',
        bool(p, 'allow-lan') && '--allow-lan',
      ].filter(Boolean);
      if (allowed.length) {
        io.err(
          `warning: ${allowed.join(' and ')} given: the page (anyone with the URL) may use them`,
        );
      }
      if (!bool(p, 'no-open') && !(await openBrowser(web.url))) {
        io.err('note: could not start a browser; open the URL above yourself');
      }
      await io.interrupted;
      await web.close();
      await engine.close();
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
      io.out('stopped');
      return 0;
    },
  },
];
