// The close code an echo server sends for each ws protocol error, keyed by ws's public `err.code`
// (ws/lib/receiver.js and permessage-deflate.js pick the same codes; RFC 6455 section 7.4.1).
// One table, so the log's closeCode and the close frame on the wire cannot disagree.

/** ws error code -> close code. Anything not listed is a protocol error (1002). */
export const WS_ERROR_CLOSE_CODES: Readonly<Record<string, number>> = {
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: 1009,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: 1008,
  WS_ERR_INVALID_OPCODE: 1002,
  WS_ERR_EXPECTED_FIN: 1002,
  WS_ERR_EXPECTED_MASK: 1002,
  WS_ERR_UNEXPECTED_MASK: 1002,
  WS_ERR_UNEXPECTED_RSV_1: 1002,
  WS_ERR_UNEXPECTED_RSV_2_3: 1002,
  WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH: 1002,
  WS_ERR_INVALID_CLOSE_CODE: 1002,
};

/** The close code for an error ws emitted on a connection. zlib's codes (Z_DATA_ERROR, …): bad deflate data, 1007. */
export function closeCodeOf(code: string | undefined): number {
  if (code === undefined) return 1002;
  if (code.startsWith('Z_')) return 1007;
  return WS_ERROR_CLOSE_CODES[code] ?? 1002;
}
