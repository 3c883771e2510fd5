// Message content rules (docs/protocol.md §4): content is trimmed, then must hold 1..max Unicode code points.
// The one code-point counter of the repository: a surrogate pair is one code point, as JSON Schema's
// maxLength counts.

/** Unicode code points in `s` (a surrogate pair counts once; a lone surrogate counts once). */
export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Content trimmed when it holds 1..max code points; otherwise why not. Stops counting past `max`. */
export function checkContent(content: string, max: number): { content: string } | { problem: 'empty' | 'too_long' } {
  const trimmed = content.trim();
  let n = 0;
  for (const _ of trimmed) if (++n > max) return { problem: 'too_long' };
  return n === 0 ? { problem: 'empty' } : { content: trimmed };
}
