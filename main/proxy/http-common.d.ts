// Node's own HTTP/1.1 parser (llhttp) as its http module uses it, imported through llhttp.ts: `_http_common`
// is a built-in module of every Node and Electron release, without type declarations in @types/node. Only
// what main/proxy uses is declared.
declare module '_http_common' {
  export class HTTPParser {
    static readonly REQUEST: number;
    static readonly RESPONSE: number;
    static readonly kOnMessageBegin: number;
    static readonly kOnHeaders: number;
    static readonly kOnHeadersComplete: number;
    static readonly kOnBody: number;
    static readonly kOnMessageComplete: number;
    static readonly kOnExecute: number;
    static readonly kOnTimeout: number;
    static readonly kLenientNone: number;
    [key: number]: unknown;
    initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
    /** Bytes parsed, or the parse error (code HPE_*, reason). */
    execute(data: Buffer): number | (Error & { code?: string; reason?: string });
    /** End of input: completes a body that ends with the connection, or the error of a cut message. */
    finish(): undefined | (Error & { code?: string; reason?: string });
    close(): void;
  }
  /**
   * kOnHeadersComplete's arguments. `headers` and `url` are undefined when they came in parts through
   * kOnHeaders (more than 32 header lines). The return value: 0, 1 to skip the body (HEAD, 1xx), 2 to skip
   * it and stop (an upgrade).
   */
  export type OnHeadersComplete = (
    versionMajor: number,
    versionMinor: number,
    headers: string[] | undefined,
    method: number,
    url: string | undefined,
    statusCode: number,
    statusMessage: string,
    upgrade: boolean,
    shouldKeepAlive: boolean,
  ) => number;
  /** Method names by llhttp's method number. */
  export const methods: string[];
  /** Adds rawPacket (the chunk being parsed) and "Parse Error: <reason>" to a parse error, as http does. */
  export function prepareError(err: Error, parser: HTTPParser, rawPacket: Buffer): void;
  export function _checkInvalidHeaderChar(value: string): boolean;
  export function _checkIsHttpToken(name: string): boolean;
}
