/**
 * Redaction: what is shown instead of a secret. The redacted form keeps only what identifies the
 * kind of secret (a token prefix such as `ghp_`, or a private key's BEGIN marker) and the length.
 */
import { type SecretMatch, scanText } from './scan';

/** Replaces each match (sorted, non-overlapping, as scanText returns them) by its redacted form. */
export function replaceMatches(text: string, matches: readonly SecretMatch[]): string {
  if (matches.length === 0) return text;
  let out = '';
  let at = 0;
  for (const m of matches) {
    out += text.slice(at, m.start) + m.redacted;
    at = m.end;
  }
  return out + text.slice(at);
}

/** `text` with every secret replaced by its redacted form (for snippets, messages, sidecar manifests). */
export function redactSecrets(text: string): string {
  return replaceMatches(text, scanText(text));
}

/** Characters of the line kept on either side of the match (lines can be megabytes long). */
const SNIPPET_CONTEXT = 100;

/** Index of the first match ending after `offset` (matches are sorted and do not overlap). */
function firstEndingAfter(matches: readonly SecretMatch[], offset: number): number {
  let lo = 0;
  let hi = matches.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (matches[mid]!.end <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The line of `text` holding `match`, with every secret on it redacted (parts of a multi-line
 * secret that started on an earlier line become `…`), cut to about 100 characters either side
 * of the match (`…` marks a cut).
 */
export function redactedLine(text: string, matches: readonly SecretMatch[], match: SecretMatch): string {
  const floor = Math.max(0, match.start - SNIPPET_CONTEXT);
  let from = match.start;
  while (from > floor && text.charCodeAt(from - 1) !== 10) from--;
  const ceiling = Math.min(text.length, match.end + SNIPPET_CONTEXT);
  let to = match.start;
  while (to < ceiling && text.charCodeAt(to) !== 10) to++;
  let line = from > 0 && text.charCodeAt(from - 1) !== 10 ? '…' : '';
  let at = from;
  let endsInSecret = false;
  for (let i = firstEndingAfter(matches, from); i < matches.length && matches[i]!.start < to; i++) {
    const m = matches[i]!;
    line += text.slice(at, Math.max(m.start, from));
    line += m.start >= from ? m.redacted : '…';
    at = Math.min(m.end, to);
    endsInSecret = m.end >= to;
  }
  if (!endsInSecret) line += text.slice(at, to);
  line = line.replace(/\r$/, '').trimEnd();
  if (!endsInSecret && to < text.length && text.charCodeAt(to) !== 10) line += '…';
  return line;
}
