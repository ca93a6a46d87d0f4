/**
 * Entropy and the heuristics that tell a random-looking secret from things that merely look long:
 * digests, UUIDs, words and identifiers, templates, placeholders, sequences.
 */

const counts = new Int32Array(128);
const seen = new Uint8Array(128);

/** Shannon entropy in bits per character. */
export function shannonEntropy(value: string): number {
  const n = value.length;
  if (n === 0) return 0;
  let distinct = 0;
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128) {
      ascii = false;
      break;
    }
    if (counts[c]!++ === 0) seen[distinct++] = c;
  }
  let entropy = 0;
  if (ascii) {
    for (let k = 0; k < distinct; k++) {
      const c = seen[k]!;
      const p = counts[c]! / n;
      entropy -= p * Math.log2(p);
      counts[c] = 0;
    }
    return entropy;
  }
  for (let k = 0; k < distinct; k++) counts[seen[k]!] = 0;
  const map = new Map<string, number>();
  let total = 0;
  for (const ch of value) {
    map.set(ch, (map.get(ch) ?? 0) + 1);
    total++;
  }
  for (const k of map.values()) {
    const p = k / total;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID.test(value);

const HEX = /^[0-9a-f]+$/i;
export const isHex = (value: string): boolean => HEX.test(value);

/** Lengths of common hex digests: md5, sha1 / git SHA, sha224, sha256, sha384, sha512. */
const DIGEST_LENGTHS = new Set([32, 40, 56, 64, 96, 128]);
export const isHexDigest = (value: string): boolean => DIGEST_LENGTHS.has(value.length) && isHex(value);

/** Key names that announce a digest or an identifier rather than a credential. */
const DIGEST_KEY = /sha|hash|digest|checksum|md5|commit|etag|revision|fingerprint|cache|\bid\b|_id\b/i;
export const isDigestKey = (keyName: string): boolean => DIGEST_KEY.test(keyName);

const SEQUENCES = [
  'abcdefghijklmnopqrstuvwxyz',
  '0123456789abcdefghijklmnopqrstuvwxyz',
  'abcdefghijklmnopqrstuvwxyz0123456789',
  '01234567890123456789',
  '98765432109876543210',
  'zyxwvutsrqponmlkjihgfedcba',
  'qwertyuiopasdfghjklzxcvbnm',
  '1234567890qwertyuiop',
];

/** Half or more of the characters sit in ascending runs of four or more (`…789ABCDEF…`). */
function mostlyAscending(value: string): boolean {
  let inRuns = 0;
  let run = 1;
  for (let i = 1; i <= value.length; i++) {
    if (i < value.length && value.charCodeAt(i) === value.charCodeAt(i - 1) + 1) {
      run++;
      continue;
    }
    if (run >= 4) inRuns += run;
    run = 1;
  }
  return inRuns * 2 >= value.length;
}

/**
 * True for values that are a run of a well-known sequence (`abcdef…`, `123456…`, `qwerty…`) or a
 * unit repeated at least twice (`aaaa…`, `abcabcabc`, `0123456789abcdef0123…`): placeholders and
 * test values, never secrets.
 */
export function isSequentialOrRepeated(value: string): boolean {
  const lower = value.toLowerCase();
  if (lower.length >= 6) {
    for (const seq of SEQUENCES) if (seq.includes(lower)) return true;
  }
  if (mostlyAscending(value)) return true;
  for (let unit = 1; unit * 2 <= lower.length; unit++) {
    let repeated = true;
    for (let i = unit; i < lower.length; i++) {
      if (lower.charCodeAt(i) !== lower.charCodeAt(i - unit)) {
        repeated = false;
        break;
      }
    }
    if (repeated) return true;
  }
  return false;
}

/** `$VAR`, `${VAR}`, `{{ var }}`, `<your-key>`, `%(name)s`, `{name}`: filled in later, not a secret. */
const TEMPLATED = /^\$|\$\{|\{\{|\}\}|^<.*>$|%\(|^\{[\w.-]*\}$|\{[A-Za-z_]\w*\}/;
export const isTemplated = (value: string): boolean => TEMPLATED.test(value);

/** Lookups of the real value elsewhere: environment, getpass, secret managers. */
const LOOKUP =
  /(?:os\.environ|os\.getenv|getenv|getpass|environ\.get|process\.env|Sys\.getenv|get_secret|secretsmanager)/i;
export const isLookup = (value: string): boolean => LOOKUP.test(value);

const PLACEHOLDER =
  /x{4,}|\*{3,}|\.{3}|•|…|your[-_ ]?|changeme|change[-_]me|placeholder|redacted|example|dummy|sample|insert[-_ ]|replace[-_ ]?me|fill[-_ ]?in|todo|fixme|^(?:none|null|nil|undefined|true|false|secret|password|passwd|token|string)$/i;
export const isPlaceholder = (value: string): boolean => PLACEHOLDER.test(value);

/** AWS documents AKIAIOSFODNN7EXAMPLE and wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY as examples. */
const AWS_EXAMPLE = /EXAMPLE[A-Z]{0,3}$/;
export const isAwsExample = (value: string): boolean => AWS_EXAMPLE.test(value);

const VOWEL = /[aeiouy]/i;

/** One camel-case part: a word (with a vowel), an acronym, a number, or anything of 3 characters or fewer. */
function isWordPart(part: string): boolean {
  if (part.length <= 3 || /^\d+$/.test(part)) return true;
  const word = /^([A-Z]?[a-z]+)\d{0,6}$/.exec(part);
  if (word) return VOWEL.test(word[1]!);
  const acronym = /^([A-Z]+)\d{0,6}$/.exec(part);
  return acronym !== null && acronym[1]!.length <= 6;
}

/**
 * A segment reads like a name (`MiniLM`, `X448PublicKey`, `AUChannelInfo`, `ufoLib2`, `v2`) when
 * it splits at camel-case boundaries into word-like parts, few of them tiny. Random tokens split
 * into many tiny parts or parts with digits inside. About 1% of random 28-character alphanumeric
 * tokens pass as names (0.2% at 40 characters): the price of not flagging identifiers.
 */
function isWordish(segment: string): boolean {
  if (segment.length <= 3) return true;
  const parts = segment.split(/(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/);
  let tiny = 0;
  for (const part of parts) if (part.length <= 2) tiny++;
  if (tiny * 3 > parts.length + 1) return false;
  return parts.every(isWordPart);
}

/**
 * Plain words, identifiers and names made of them (`bert-base-uncased`, `model_v2`,
 * `sentence-transformers/all-MiniLM-L6-v2`, `self._lib.NID_pbe_WithSHA1And3`, `test,pdf`) as
 * opposed to random tokens. Letters-only values always count as words.
 */
export function looksLikeWords(value: string): boolean {
  if (/^[A-Za-z_.\s-]+$/.test(value)) return true;
  const segments = value.split(/[-_./:@+\s,;#&=%|~!?*]+/).filter((s) => s.length > 0);
  return segments.every(isWordish);
}

/** Paths, file names, URLs, ARNs, dotted names: they name where a secret might live, they are not one. */
const PATH_LIKE =
  /^[a-z0-9_-]+(?:\.[a-z0-9_-]+){2,}$|^(?:arn:|\/|\.{1,2}\/|~\/|[A-Za-z]:\\)|:\/\/|\.(?:json|ya?ml|txt|csv|pkl|pt|bin|ipynb|py|pem|key|env|cfg|ini|toml|parquet|onnx)$/i;
export const isPathLike = (value: string): boolean => PATH_LIKE.test(value);

/** How many of upper case, lower case and digits occur. */
export function characterClasses(value: string): { upper: boolean; lower: boolean; digit: boolean } {
  return { upper: /[A-Z]/.test(value), lower: /[a-z]/.test(value), digit: /[0-9]/.test(value) };
}
