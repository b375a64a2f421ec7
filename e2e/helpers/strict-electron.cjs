// A stricter stand-in for the `electron` module, for running the BUILT bundle dist/app/main.cjs in a plain
// Node child process (e2e/app-bundle.test.ts). It throws where real Electron throws or misbehaves:
// protocol.registerSchemesAsPrivileged after 'ready' or twice, session.defaultSession / screen /
// BrowserWindow / protocol.handle before 'ready', a second ipcMain.handle for one channel, userData set
// after 'ready'. loadURL can reject, senderFrame can be null, the renderer can die. Unhandled rejections
// are recorded (real Electron shows "A JavaScript error occurred in the main process").
//
//   node strict-electron.cjs <bundle> <scenario>      prints one JSON line: what happened
'use strict';
const Module = require('node:module');
const { EventEmitter } = require('node:events');

const [bundle, scenario] = process.argv.slice(2);
const log = { calls: [], errors: [], unhandled: [], windows: [], dialogs: [], clipboard: [] };
const note = (s) => log.calls.push(s);
let ready = false;
let resolveReady;
const readyP = new Promise((r) => (resolveReady = r));
const strict = (what) => {
  const e = new Error(`strict-electron: ${what}`);
  log.errors.push(e.message);
  throw e;
};
const notBeforeReady = (what) => {
  if (!ready) strict(`${what} used before the app is ready`);
};

const appEvents = new EventEmitter();
const app = {
  name: 'wss-studio',
  isReady: () => ready,
  whenReady: () => readyP,
  on: (ev, fn) => (appEvents.on(ev, fn), app),
  once: (ev, fn) => (appEvents.once(ev, fn), app),
  quit: () => {
    note('app.quit');
    const e = {
      defaultPrevented: false,
      preventDefault() {
        this.defaultPrevented = true;
      },
    };
    appEvents.emit('before-quit', e);
    if (!e.defaultPrevented) note('app.quit.done');
  },
  setName: (n) => {
    app.name = n;
    note(`app.setName:${n}`);
  },
  getPath: (n) => `/strict/${n}`,
  setPath: (n, p) => {
    if (n === 'userData' && ready) strict('userData set after ready');
    note(`app.setPath:${n}=${p}`);
  },
  requestSingleInstanceLock: () => true,
};

let schemesRegistered = false;
const protocol = {
  registerSchemesAsPrivileged: (list) => {
    if (ready) strict('registerSchemesAsPrivileged after ready');
    if (schemesRegistered) strict('registerSchemesAsPrivileged called twice');
    schemesRegistered = true;
    note(`protocol.registerSchemesAsPrivileged:${list.map((s) => s.scheme).join(',')}`);
  },
  handle: (scheme) => {
    notBeforeReady('protocol.handle');
    note(`protocol.handle:${scheme}`);
  },
};

const defaultSession = {
  setPermissionRequestHandler: () => note('session.setPermissionRequestHandler'),
  setPermissionCheckHandler: (fn) => {
    note('session.setPermissionCheckHandler');
    log.clipboardPermission = fn(null, 'clipboard-sanitized-write', 'app://wss-studio', {});
  },
  setDevicePermissionHandler: () => {},
};
const session = {
  get defaultSession() {
    notBeforeReady('session.defaultSession');
    return defaultSession;
  },
};

const screen = new Proxy(
  {},
  {
    get(_t, prop) {
      notBeforeReady(`screen.${String(prop)}`);
      if (prop === 'getAllDisplays')
        return () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }];
      return undefined;
    },
  },
);

const ipcHandlers = new Map();
const ipcMain = {
  handle: (ch, fn) => {
    if (ipcHandlers.has(ch)) strict(`Attempted to register a second handler for '${ch}'`);
    ipcHandlers.set(ch, fn);
  },
  removeHandler: (ch) => ipcHandlers.delete(ch),
};

let loadPlan = [];
class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    notBeforeReady('new BrowserWindow');
    this.options = options;
    this.loads = [];
    this.shown = false;
    this.destroyed = false;
    this.webContents = Object.assign(new EventEmitter(), {
      send: () => {},
      reload: () => note('webContents.reload'),
      setWindowOpenHandler: () => {},
    });
    log.windows.push(this);
  }
  loadURL(url) {
    this.loads.push(url);
    const step = loadPlan.shift() ?? 'ok';
    if (step === 'reject') {
      // What Electron rejects with when the page is missing.
      return Promise.reject(new Error(`ERR_FILE_NOT_FOUND (-6) loading '${url}'`));
    }
    setImmediate(() => this.emit('ready-to-show'));
    return Promise.resolve();
  }
  show() {
    this.shown = true;
    note('win.show');
  }
  isDestroyed() {
    return this.destroyed;
  }
  isMinimized() {
    return false;
  }
  getNormalBounds() {
    return { x: 0, y: 0, width: 1200, height: 800 };
  }
}

let answers = [];
const dialog = {
  showMessageBox: async (_win, opts) => {
    log.dialogs.push({ message: opts.message, detail: opts.detail, buttons: opts.buttons });
    return { response: answers.shift() ?? 1 };
  },
  showErrorBox: (title, text) => log.dialogs.push({ errorBox: title, text }),
  showSaveDialog: async () => ({ canceled: true }),
};

const fake = {
  app,
  protocol,
  session,
  screen,
  ipcMain,
  BrowserWindow,
  dialog,
  Menu: { setApplicationMenu: () => note('Menu.setApplicationMenu'), buildFromTemplate: (t) => t },
  clipboard: { writeText: (t) => log.clipboard.push(t) },
  shell: { openExternal: async () => {} },
};

const origLoad = Module._load;
Module._load = function (request, ...rest) {
  if (request === 'electron') return fake;
  return origLoad.call(this, request, ...rest);
};
process.on('unhandledRejection', (e) => log.unhandled.push(String(e && e.message ? e.message : e)));

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));
const waitFor = async (pred, what, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`strict-electron: timed out waiting for ${what}`);
    await tick();
  }
};
const frame = { url: 'app://wss-studio/index.html', parent: null };

const main = async () => {
  if (scenario === 'load-rejects') {
    loadPlan = ['reject', 'ok'];
    answers = [0]; // Reload
  }
  if (scenario === 'renderer-gone') answers = [1]; // Quit
  if (scenario === 'bite') loadPlan = ['reject'];
  require(bundle);
  note('bundle loaded');
  ready = true;
  resolveReady();
  if (scenario === 'bite') {
    // A deliberately wrong bundle (e2e/app-bundle.test.ts): report what it did wrong, nothing more.
    await tick(200);
    process.stdout.write(JSON.stringify({ ...log, windows: [] }) + '\n');
    process.exit(0);
  }
  await waitFor(() => log.windows.length === 1, 'the window');
  const win = log.windows[0];
  if (scenario === 'load-rejects') {
    await waitFor(() => win.loads.length === 2, 'the reload');
  }
  if (scenario === 'renderer-gone') {
    await waitFor(() => win.loads.length === 1, 'the load');
    win.webContents.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 139 });
    await waitFor(() => log.calls.includes('app.quit'), 'quit');
  }
  await waitFor(() => win.shown, 'the window to show');
  await tick(100);
  if (scenario === 'ipc') {
    const call = (ch, event, input) => ipcHandlers.get(ch)(event, input);
    log.nullFrame = await call('api:app.info', { sender: win.webContents, senderFrame: null }, {});
    log.appInfo = await call('api:app.info', { sender: win.webContents, senderFrame: frame }, {});
    log.copy = await call(
      'api:app.copy',
      { sender: win.webContents, senderFrame: frame },
      { text: 'wss://localhost:8443/' },
    );
    log.channels = ipcHandlers.size;
  }
  if (!log.calls.includes('app.quit')) app.quit();
  await waitFor(() => log.calls.includes('app.quit.done') || scenario === 'renderer-gone', 'quit');
  await tick(50);
  log.windows = log.windows.map((w) => ({ loads: w.loads, shown: w.shown, options: w.options }));
  process.stdout.write(JSON.stringify(log) + '\n');
  process.exit(0);
};
main().catch((e) => {
  log.errors.push(`driver: ${e.message}`);
  log.windows = log.windows.map((w) => ({ loads: w.loads, shown: w.shown }));
  process.stdout.write(JSON.stringify(log) + '\n');
  process.exit(1);
});
