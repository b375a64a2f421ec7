// Splitting the certificate form's names field. Pure, no runes: unit-tested beside it (names.test.ts).

/** "localhost, 127.0.0.1 ::1" -> ['localhost', '127.0.0.1', '::1'] */
export function splitNames(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}
