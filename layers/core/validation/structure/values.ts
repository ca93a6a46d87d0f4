/** Small value predicates and wording shared by the structure checks. */

/**
 * Mime types whose value is raw JSON. The schema's pattern `^application/(.*\+)?json$` is applied
 * with Python's re.search: `.` stops at "\n" and `$` also matches before one final "\n".
 */
export const isJsonMime = (key: string): boolean => /^application\/([^\n]*\+)?json\n?$/.test(key);

/** Keys that Python's re.search(r'^.*$') matches: no line break except possibly a final one. */
export const isSingleLineKey = (key: string): boolean => /^[^\n]*\n?$/.test(key);

/** Short description of a value for messages: `the number 3`, `a list`, `the string "abc"`. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${quote(v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  return String(v);
}

/** A string quoted for a message, shortened when long. */
export function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

/** `"a", "b" and "c"` */
export function listWords(words: readonly string[]): string {
  const q = words.map((w) => `"${w}"`);
  return q.length <= 1 ? (q[0] ?? '') : `${q.slice(0, -1).join(', ')} and ${q[q.length - 1]}`;
}
