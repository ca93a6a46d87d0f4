/**
 * Scanning one text: cheap gates decide which detectors can possibly match (most texts pass none),
 * those run, overlapping hits are resolved in favour of the most specific rule, and lines carrying
 * an allowlist comment are dropped.
 */
import { type Candidate, DETECTORS, type Detector } from './detectors';

export interface SecretMatch {
  rule: string;
  /** UTF-16 offsets of the secret in the scanned text (`end` exclusive). */
  start: number;
  end: number;
  /** What may be shown instead: the kind prefix, `…` and the length, e.g. `AKIA…(20 chars)`. */
  redacted: string;
}

/** The kind prefix (`AKIA`, `ghp_`, a key's BEGIN marker, or nothing), `…` and the length. */
export function redactedForm(shown: string, length: number): string {
  return `${shown}…(${length} chars)`;
}

/** `nbops:allow-secret`, detect-secrets' `pragma: allowlist secret` and gitleaks' `gitleaks:allow`. */
export const ALLOW_COMMENT = /nbops:allow-secret|pragma:\s*allowlist[ -]secret|gitleaks:allow/;

/**
 * The literal gates of the prefixed formats (AKIA, ghp_, xoxb-, eyJ, BEGIN … PRIVATE KEY, ://, …)
 * folded into a few regexes. Irregexp skips quickly through text only while a regex can start
 * with few distinct characters, so one regex of all gates is several times slower than these
 * groups (measured on traceback text). Most texts pass no group, and then none of those
 * detectors is even considered; a detector runs only if its group and its own gate pass.
 */
const LITERAL_GATE_GROUPS: readonly (readonly string[])[] = [
  ['SEC-001', 'SEC-003', 'SEC-010'], // upper-case literals: AKIA…, PRIVATE KEY, AIza
  ['SEC-004', 'SEC-005'], // gh?_, github_pat_, xox?-, xapp-, hooks.slack.com
  ['SEC-011', 'SEC-012', 'SEC-013', 'SEC-006'], // [sr]k_live_, hf_, sk-, eyJ
];

/** Detectors are numbered by their place in DETECTORS; sets of them are bit masks. */
const bit = (d: Detector): number => 1 << DETECTORS.indexOf(d);

interface GateGroup {
  gate: RegExp;
  /** The detectors whose gates the group folds. */
  mask: number;
}

const GATE_GROUPS: readonly GateGroup[] = (() => {
  const literal = DETECTORS.filter((d) => d.gateKind === 'literal');
  const groups = LITERAL_GATE_GROUPS.map((rules) => literal.filter((d) => rules.includes(d.rule)));
  // A literal detector in no listed group gets a group of its own.
  for (const d of literal) if (!groups.some((g) => g.includes(d))) groups.push([d]);
  return groups
    .filter((g) => g.length > 0)
    .map((g) => ({
      gate: new RegExp(g.map((d) => d.gate.source).join('|')),
      mask: g.reduce((mask, d) => mask | bit(d), 0),
    }));
})();

/** Detectors that also judge the key a metadata string sits under. */
const HINTED = DETECTORS.reduce(
  (mask, d) => (d.rule === 'SEC-002' || d.rule === 'SEC-007' ? mask | bit(d) : mask),
  0,
);
/** For each detector, the detectors whose passing gate also opens it (`alsoAfter`). */
const OPENED_BY = DETECTORS.map((d) => {
  const other = DETECTORS.find((o) => o.rule === d.alsoAfter);
  return other === undefined ? 0 : bit(other);
});

/**
 * Whether any rule could match: every rule needs a run of 12 characters without space, quote or
 * backslash (the shortest is a generic value: 10 characters at least, and more than 3.5 bits of
 * entropy take 12 distinct ones), or `://` for a password in a URL. Most short texts (messages,
 * prose) have neither, and redactSecrets runs on every finding's message and snippet. A plain
 * loop: a regex for this costs several times more per call. It errs on the side of "possible"
 * (only ASCII spaces and the three quotes break a run).
 */
function possible(text: string): boolean {
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 10 || c === 9 || c === 13 || c === 34 || c === 39 || c === 96 || c === 92) run = 0;
    else if (++run >= 12) return true;
    if (c === 58 && text.charCodeAt(i + 1) === 47 && text.charCodeAt(i + 2) === 47) return true;
  }
  return false;
}

const PRIORITY = new Map(DETECTORS.map((d, i) => [d.rule, i]));

/**
 * Keeps the most specific hit where hits overlap: candidates in rule priority order, each kept
 * unless it overlaps one already kept. Kept hits never overlap, so sorted by start they are also
 * sorted by end, and a binary search finds the neighbours to compare with.
 */
function resolveOverlaps(candidates: Candidate[]): Candidate[] {
  if (candidates.length < 2) return candidates;
  const ordered = [...candidates].sort(
    (a, b) => (PRIORITY.get(a.rule) ?? 99) - (PRIORITY.get(b.rule) ?? 99) || a.start - b.start,
  );
  const kept: Candidate[] = [];
  for (const c of ordered) {
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (kept[mid]!.start < c.start) lo = mid + 1;
      else hi = mid;
    }
    const before = kept[lo - 1];
    const after = kept[lo];
    if ((before && before.end > c.start) || (after && after.start < c.end)) continue;
    kept.splice(lo, 0, c);
  }
  return kept;
}

function lineOf(text: string, index: number): string {
  const start = text.lastIndexOf('\n', index - 1) + 1;
  const end = text.indexOf('\n', index);
  return text.slice(start, end < 0 ? text.length : end);
}

/**
 * Every secret in `text`. `hint` is the JSON key path (e.g. `environment.API_TOKEN`) a metadata
 * string sits under: a credential-like key makes the whole string a candidate value.
 */
export function scanWithHint(text: string, hint?: string): SecretMatch[] {
  if (hint === undefined && !possible(text)) return [];
  const candidates: Candidate[] = [];
  let literal = 0;
  for (const group of GATE_GROUPS) if (group.gate.test(text)) literal |= group.mask;
  let lower: string | undefined;
  let opened = hint === undefined ? 0 : HINTED;
  for (let i = 0; i < DETECTORS.length; i++) {
    const detector = DETECTORS[i]!;
    const me = 1 << i;
    let open = (opened & me) !== 0 || (opened & OPENED_BY[i]!) !== 0;
    if (!open) {
      switch (detector.gateKind) {
        case 'literal':
          open = (literal & me) !== 0 && detector.gate.test(text);
          break;
        case 'lowercase':
          lower ??= text.toLowerCase();
          open = detector.gate.test(lower);
          break;
        default:
          open = detector.gate.test(text);
      }
    }
    if (!open) continue;
    opened |= me;
    detector.find(text, hint, candidates, lower);
  }
  if (candidates.length === 0) return [];
  const allowComments = ALLOW_COMMENT.test(text);
  const matches: SecretMatch[] = [];
  for (const c of resolveOverlaps(candidates)) {
    if (allowComments && ALLOW_COMMENT.test(lineOf(text, c.start))) continue;
    matches.push({
      rule: c.rule,
      start: c.start,
      end: c.end,
      redacted: redactedForm(c.shown, c.end - c.start),
    });
  }
  return matches;
}

/** All secrets in a text, in order; lines with an allowlist comment are skipped. */
export function scanText(text: string): SecretMatch[] {
  return scanWithHint(text);
}
