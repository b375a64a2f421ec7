// V8 heap sizing for a process that runs the proxy: the `wss-studio proxy` CLI, the app's main process and
// bench/proxy.mjs's "ours" child. These flags size the heap when V8 starts, so they go on the command line
// (node's execArgv); v8.setFlagsFromString() later does not resize a heap that already exists. In the app
// the engine runs in Electron's main process, which takes V8 flags only from Electron's own command line
// (--js-flags="..."): app.commandLine.appendSwitch('js-flags', ...) reaches only processes started after it.
//
// Why (measured on Node 20 / V8 11.3 with --trace-gc and --trace-incremental-marking): a 64 KiB WebSocket
// message passes through about five short-lived 64 KiB Buffers on its round trip (the socket reads, `ws`
// joining a frame that spans reads, `ws`'s masked copy for the target). They are external memory, and V8
// adds external memory allocated since the last full GC to the old generation's size when it decides to
// start marking. It only does so once the old generation holds more than 8 MB (incremental marking's
// activation threshold): a bare `ws` pass-through sits at ~6 MB, the engine at 8-10 MB (the CLI ~10 MB, the
// app more). Past that threshold, after each full GC the limit is only max(live x factor, live + 8 MB)
// plus the young generation's capacity (up to 16 MB), and marking starts once less than that capacity is
// left, while young Buffers are freed by a scavenge only every 32 MB of them (unless JS objects fill the
// young generation first). So 8-30 MB of Buffers that die young started a full mark-compact every ~100
// messages: at 64 KiB x 64 clients (bench/proxy.mjs) ours ran 430-1,050 full GCs per 100k messages, the
// CLI 430-920, the bare pass-through 0, and the same bare pass-through with 2 MB more live heap 490-840.
// It is not our code holding memory: nothing per message stays alive, and the frame log's capture slabs
// are recycled.
//
// --initial-old-space-size makes its value the floor of that limit (V8 lets a heap configured this way skip
// full GCs below it). 64 MB leaves room for the young generation plus the 32 MB of young Buffers between
// scavenges (32 MB did not: 805 full GCs per 100k; 64 MB: 0-50, the CLI too, CPU per message back to
// bare's). The cost is that garbage may grow the old generation towards 64 MB before a full GC: the bench's
// proxy process ended its 64 KiB cells at 160 MB resident against 146 MB without the flag.

/** Floor, in MB, of the old generation's limit in a process that runs the proxy. */
export const PROXY_OLD_SPACE_MB = 64;

/** Node / V8 command-line flags for a process that runs the proxy (node execArgv, or Electron --js-flags). */
export const PROXY_V8_FLAGS: readonly string[] = [`--initial-old-space-size=${PROXY_OLD_SPACE_MB}`];

const FLAG_NAME = /^--initial[-_]old[-_]space[-_]size(=|$)/;

/**
 * execArgv for a process that will run the proxy: `execArgv` plus PROXY_V8_FLAGS, unless the user already
 * chose an initial old space size (theirs is kept).
 */
export function withProxyHeap(execArgv: readonly string[]): string[] {
  if (execArgv.some((a) => FLAG_NAME.test(a))) return [...execArgv];
  return [...execArgv, ...PROXY_V8_FLAGS];
}
