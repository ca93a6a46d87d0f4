/**
 * One detector per SEC rule: a cheap gate (a regex tested before anything else) and a `find`
 * that runs the precise regex and the false-positive filters only on texts the gate passed.
 * Token formats follow public sources (gitleaks, detect-secrets, trufflehog, vendors' token
 * documentation); the patterns and filters are our own.
 */
import {
  characterClasses,
  isAwsExample,
  isDigestKey,
  isHex,
  isHexDigest,
  isLookup,
  isPathLike,
  isPlaceholder,
  isSequentialOrRepeated,
  isTemplated,
  isUuid,
  looksLikeWords,
  shannonEntropy,
} from './entropy';

/** A raw hit, before overlap resolution and allowlist comments. */
export interface Candidate {
  rule: string;
  start: number;
  end: number;
  /** The leading characters the redacted form keeps: the kind prefix (`AKIA`, `ghp_`) or a key's BEGIN marker. */
  shown: string;
}

export interface Detector {
  rule: string;
  /** Must match somewhere in the text before `find` is worth running. */
  gate: RegExp;
  /**
   * `literal`: case-sensitive and starting with a literal; scan.ts folds these gates into a few
   * pre-filters and tests each only when its pre-filter passed. `lowercase`: tested on the
   * lower-cased text (much faster than a case-insensitive regex). `plain`: tested as it is.
   */
  gateKind: 'literal' | 'lowercase' | 'plain';
  /** Another detector (by rule) whose gate passing also opens this one (a key id opens SEC-002). */
  alsoAfter?: string;
  /**
   * `hint`: the JSON key path a metadata string sits under, for rules that need a keyword nearby.
   * `lower`: the text lower-cased, when the gate computed it.
   */
  find(text: string, hint: string | undefined, out: Candidate[], lower?: string): void;
}

/** Not a placeholder, not a sequence, and random enough for its alphabet. */
function randomEnough(body: string, floor: number): boolean {
  return !isPlaceholder(body) && !isSequentialOrRepeated(body) && shannonEntropy(body) > floor;
}

/**
 * Runs a global regex whose group 1 is the kind prefix (kept in the redacted form) and group 2
 * the secret body, keeping hits whose body passes `accept`.
 */
function prefixed(rule: string, gate: RegExp, pattern: RegExp, accept: (body: string) => boolean): Detector {
  return {
    rule,
    gate,
    gateKind: 'literal',
    find(text, _hint, out) {
      pattern.lastIndex = 0;
      for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
        const prefix = m[1] ?? '';
        const body = m[2] ?? '';
        if (accept(body)) out.push({ rule, start: m.index, end: m.index + m[0].length, shown: prefix });
      }
    },
  };
}

// SEC-001: access key ids are a 4-letter kind prefix and 16 base32 characters.
const AWS_KEY_ID = /(?<![A-Za-z0-9])(A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)([A-Z2-7]{16})(?![A-Za-z0-9])/g;
const AWS_KEY_ID_ANYWHERE = /(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9])/;

const awsKeyId = prefixed(
  'SEC-001',
  /A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA/,
  AWS_KEY_ID,
  (body) => !isAwsExample(body) && randomEnough(body, 3.0),
);

// SEC-002: 40 base64 characters, only believed near an AWS/secret keyword or an access key id.
// A standalone token: not a slice of a longer run, a path or a dotted/dashed name.
const AWS_SECRET = /(?<![A-Za-z0-9/+=._-])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=._-])/g;
const AWS_CONTEXT = /aws|secret/i;

const awsSecret: Detector = {
  rule: 'SEC-002',
  gate: /aws|secret/,
  gateKind: 'lowercase',
  alsoAfter: 'SEC-001',
  find(text, hint, out) {
    const keyIdInText = AWS_KEY_ID_ANYWHERE.test(text);
    const hinted = hint !== undefined && AWS_CONTEXT.test(hint);
    AWS_SECRET.lastIndex = 0;
    for (let m = AWS_SECRET.exec(text); m !== null; m = AWS_SECRET.exec(text)) {
      const value = m[0];
      if (isHex(value) || value.includes('//') || isAwsExample(value) || looksLikeWords(value)) continue;
      const classes = characterClasses(value);
      if (!classes.upper || !classes.lower || !classes.digit) continue;
      if (!randomEnough(value, 4.2)) continue;
      const near = hinted || keyIdInText || AWS_CONTEXT.test(text.slice(Math.max(0, m.index - 100), m.index));
      if (near) out.push({ rule: 'SEC-002', start: m.index, end: m.index + value.length, shown: '' });
    }
  },
};

// SEC-003: private key blocks, believed only with a body of key material after the marker.
const PRIVATE_KEY_MARKER =
  /-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----|-----BEGIN OpenVPN Static key V1-----|PuTTY-User-Key-File-[23]: *[\w@.-]*/g;
const KEY_BODY_CHAR = /[A-Za-z0-9+/=]/;
const MAX_KEY_BLOCK = 20_000;
const MIN_KEY_BODY = 64;

/** A line break, real or escaped (keys pasted into string literals: `"-----BEGIN …-----\\nMIIE…"`). */
const KEY_BREAK = /\r?\n|\\r\\n|\\n/y;
/** A line of key material: base64, or a PEM/PGP armour header such as `Proc-Type: 4,ENCRYPTED`. */
const KEY_LINE =
  /[A-Za-z0-9+/=]{4,}(?=$|[\r\n\\])|(?:Proc-Type|DEK-Info|Comment|Version|Hash|Charset): [^\r\n\\]*/y;

/**
 * Without an END marker (a key truncated or pasted in part) the block runs over the following
 * lines that look like key material, and stops at the first that does not.
 */
function keyMaterialEnd(text: string, bodyStart: number, limit: number): number {
  let end = bodyStart;
  let pos = bodyStart;
  while (pos < limit) {
    KEY_BREAK.lastIndex = pos;
    if (!KEY_BREAK.test(text)) break;
    pos = KEY_BREAK.lastIndex;
    KEY_BREAK.lastIndex = pos;
    if (KEY_BREAK.test(text)) continue; // a blank line (after PEM headers)
    KEY_LINE.lastIndex = pos;
    const line = KEY_LINE.exec(text);
    if (line === null) break;
    pos += line[0].length;
    end = pos;
  }
  return end;
}

function privateKeyEnd(text: string, marker: string, bodyStart: number): { end: number; body: number } {
  const limit = Math.min(text.length, bodyStart + MAX_KEY_BLOCK);
  let end = -1;
  if (marker.startsWith('PuTTY')) {
    const mac = text.indexOf('Private-MAC:', bodyStart);
    if (mac >= 0 && mac < limit && text.includes('Private-Lines:', bodyStart)) {
      const eol = text.indexOf('\n', mac);
      end = eol < 0 ? text.length : eol;
    }
  } else {
    const closing = marker.startsWith('---- ') ? '---- END' : '-----END';
    const at = text.indexOf(closing, bodyStart);
    if (at >= 0 && at < limit) {
      const close = text.indexOf(marker.startsWith('---- ') ? '----' : '-----', at + closing.length);
      end = close < 0 ? text.length : close + (marker.startsWith('---- ') ? 4 : 5);
    }
  }
  if (end < 0) end = keyMaterialEnd(text, bodyStart, limit);
  let body = 0;
  for (let i = bodyStart; i < end; i++) if (KEY_BODY_CHAR.test(text[i]!)) body++;
  return { end, body };
}

const privateKey: Detector = {
  rule: 'SEC-003',
  gate: /PRIVATE KEY|PuTTY-User-Key-File|OpenVPN Static key/,
  gateKind: 'literal',
  find(text, _hint, out) {
    PRIVATE_KEY_MARKER.lastIndex = 0;
    for (let m = PRIVATE_KEY_MARKER.exec(text); m !== null; m = PRIVATE_KEY_MARKER.exec(text)) {
      const bodyStart = m.index + m[0].length;
      const { end, body } = privateKeyEnd(text, m[0], bodyStart);
      if (body >= MIN_KEY_BODY) {
        out.push({ rule: 'SEC-003', start: m.index, end, shown: m[0] });
        PRIVATE_KEY_MARKER.lastIndex = end;
      }
    }
  },
};

// SEC-004: GitHub tokens: a kind prefix and 36 alphanumerics, or a fine-grained github_pat_.
const GITHUB_TOKEN = /(?<![A-Za-z0-9_])(gh[pousr]_|github_pat_)([A-Za-z0-9_]{36,82})(?![A-Za-z0-9_])/g;
const githubToken = prefixed('SEC-004', /gh[pousr]_|github_pat_/, GITHUB_TOKEN, (body) => {
  return randomEnough(body, 3.0) && (body.length === 36 ? /^[A-Za-z0-9]+$/.test(body) : body.length === 82);
});

// SEC-005: Slack tokens (xoxb-, xoxp-, xoxa-, xoxe-, xoxr-, xoxs-, xoxo-, xoxe.xoxp-, xapp-) and webhooks.
const SLACK_TOKEN =
  /(?<![A-Za-z0-9.-])((?:xoxe\.)?xox[abeoprs]-|xapp-)((?:[0-9A-Za-z]{1,16}-){1,4}[A-Za-z0-9]{8,160})(?![A-Za-z0-9-])/g;
const SLACK_WEBHOOK =
  /(https?:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/)([A-Za-z0-9+/_-]{40,120})/g;

const slackTokens = prefixed('SEC-005', /xox|xapp-/, SLACK_TOKEN, (body) => {
  const tail = body.slice(body.lastIndexOf('-') + 1);
  return /[0-9]/.test(body) && randomEnough(tail, 3.0);
});
const slackWebhooks = prefixed('SEC-005', /hooks\.slack\.com/, SLACK_WEBHOOK, (body) => {
  const tail = body.slice(body.lastIndexOf('/') + 1);
  return tail.length >= 16 && randomEnough(tail, 3.0);
});

const slack: Detector = {
  rule: 'SEC-005',
  gate: /xox[abeoprs]-|xapp-|hooks\.slack\.com/,
  gateKind: 'literal',
  find(text, hint, out) {
    slackTokens.find(text, hint, out);
    slackWebhooks.find(text, hint, out);
  },
};

// SEC-006: JWTs: three base64url parts; header and payload must decode to JSON objects.
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*(?![A-Za-z0-9_-])/g;

function decodesToJsonObject(part: string): boolean {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

const jwt: Detector = {
  rule: 'SEC-006',
  gate: /eyJ/,
  gateKind: 'literal',
  find(text, _hint, out) {
    JWT.lastIndex = 0;
    for (let m = JWT.exec(text); m !== null; m = JWT.exec(text)) {
      const [header = '', payload = ''] = m[0].split('.');
      if (decodesToJsonObject(header) && decodesToJsonObject(payload)) {
        out.push({ rule: 'SEC-006', start: m.index, end: m.index + m[0].length, shown: 'eyJ' });
      }
    }
  },
};

// SEC-007: keyword + assignment + literal, with the value judged by isGenericSecretValue.
/**
 * access, auth (not author, authority, authorship: Colab stamps every notebook with a random
 * `authorship_tag`; authorization stays), api, credential(s), creds, key, passw(or)d, passphrase,
 * pass, pwd, secret, token, bearer: factored by first letter, which lets irregexp skip text faster.
 */
const KEYWORDS =
  'a(?:ccess|uth(?!or(?!iz))|pi)|c(?:redential|reds)|key|p(?:ass(?:w(?:or)?d|phrase|(?![a-z]))|wd)|secret|token|bearer';
const ASSIGNMENT =
  `(?:${KEYWORDS})[\\w.-]{0,30}?` +
  // optional type annotation (`api_key: str = ...`)
  `(?::\\s*[A-Za-z_][\\w.\\[\\]|, ]{0,30}?)?` +
  // a dict/JSON key's closing quote followed by `,` (setdefault("API_KEY", "...")), or an operator
  `(?:["'\`]\\s*,|["'\`\\]]{0,2}\\s{0,3}(?:==?|:=|:|=>|\\?=|<-))\\s{0,3}`;
/**
 * Run on the lower-cased text (case-insensitive regexes are several times slower in V8); values
 * are then read from the original text at the same offsets.
 */
const GENERIC = new RegExp(
  `${ASSIGNMENT}(?:[bBrRuUfF]{0,2}(["'\`])(?:(?:bearer|basic|token)\\s+)?([^\\s"'\`\\\\]{10,200})\\1|([^\\s"'\`\\\\,;:&(){}\\[\\]<>]{10,200}))`,
  'g',
);
const GENERIC_ANY_CASE = new RegExp(GENERIC.source, 'gi');
const IDENTIFIER_CHAR = /[\w.-]/;
const NON_SECRET_KEY =
  /(?:[_.-]|\b)(?:ids?|names?|url|uri|path|file|dir|type|len|length|size|count|limit|column|field|format|version|timeout|ttl|expiry|expires|method|mode|provider|region|endpoint|host|port)$/i;
const NON_SECRET_KEY_CAMEL =
  /[a-z](?:Ids?|Names?|Url|Uri|Path|File|Dir|Type|Length|Size|Count|Format|Version|Region)$/;
const NUMBERISH = /^[0-9.,:+ -]+$/;
const DOTTED_NAME = /^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$/;
/** Code, not a credential: regexes, format strings, calls (`(?P<x>…)`, `f(x)`, `{}`, `[0]`). */
const BRACKETED = /\(.*\)|\[.*\]|\{.*\}|<.*>/;

/** Is `value`, assigned to `keyName`, a literal that looks like a credential? */
export function isGenericSecretValue(keyName: string, value: string): boolean {
  if (value.length < 10 || value.length > 200) return false;
  // Cheapest and most selective first: most assigned values are short words or numbers.
  if (shannonEntropy(value) <= 3.5) return false;
  if (NON_SECRET_KEY.test(keyName) || NON_SECRET_KEY_CAMEL.test(keyName)) return false;
  if (NUMBERISH.test(value) || isUuid(value)) return false;
  if (isHexDigest(value) && isDigestKey(keyName)) return false;
  if (isTemplated(value) || isLookup(value) || isPlaceholder(value) || BRACKETED.test(value)) return false;
  return !isPathLike(value) && !looksLikeWords(value) && !isSequentialOrRepeated(value);
}

const KEYWORD_IN_NAME = new RegExp(KEYWORDS, 'i');

/** Whether a metadata key path is worth passing as a hint (it names a credential or AWS). */
export const isCredentialHint = (keyPath: string): boolean =>
  KEYWORD_IN_NAME.test(keyPath) || AWS_CONTEXT.test(keyPath);
const BEARER_PREFIX = /^(?:bearer|basic|token)\s+/i;

const generic: Detector = {
  rule: 'SEC-007',
  // No separate gate: where the keyword part matches (every `KeyError:` does) the gate would
  // only repeat the scan `find` makes, and where it does not both cost the same.
  gate: /(?:)/,
  gateKind: 'plain',
  find(text, hint, out, lower) {
    // Lower-casing keeps offsets for all but a few non-ASCII letters; otherwise match any case.
    const folded = lower ?? text.toLowerCase();
    const subject = folded.length === text.length ? folded : text;
    const pattern = subject === text ? GENERIC_ANY_CASE : GENERIC;
    pattern.lastIndex = 0;
    for (let m = pattern.exec(subject); m !== null; m = pattern.exec(subject)) {
      const quoted = m[2] !== undefined;
      const length = (m[2] ?? m[3] ?? '').length;
      const matchEnd = m.index + m[0].length;
      const end = quoted ? matchEnd - 1 : matchEnd;
      const start = end - length;
      const value = text.slice(start, end);
      if (!quoted) {
        // An unquoted value followed by a call, an index or more identifier is an expression,
        // and so is an attribute path (`self.config.api_key`).
        if (/[([\w.]/.test(text[end] ?? '') || DOTTED_NAME.test(value)) continue;
        // `secret:prod/db` (no space after the colon) is a URI or ARN part, not `key: value`.
        if (text[start - 1] === ':') continue;
      }
      let keyStart = m.index;
      while (keyStart > 0 && IDENTIFIER_CHAR.test(text[keyStart - 1]!)) keyStart--;
      if (/,\s*[bBrRuUfF]{0,2}["'`]?$/.test(text.slice(m.index, start))) {
        // `("API_KEY", "…")` is a call passing a name and its value; elsewhere (a list of
        // strings) a comma separates unrelated items. And only a literal is a value.
        const opener = text.slice(Math.max(0, keyStart - 10), keyStart);
        if (!quoted || !/\(\s*["'`]$/.test(opener)) continue;
      }
      const keyName = text.slice(keyStart, m.index + m[0].search(/[^\w.-]/));
      if (isGenericSecretValue(keyName, value)) out.push({ rule: 'SEC-007', start, end, shown: '' });
    }
    // A metadata string under a credential-like key is itself the assigned value.
    if (hint !== undefined && KEYWORD_IN_NAME.test(hint)) {
      const lead = text.length - text.trimStart().length;
      let value = text.trim();
      let start = lead;
      const bearer = BEARER_PREFIX.exec(value);
      if (bearer) {
        value = value.slice(bearer[0].length);
        start += bearer[0].length;
      }
      if (!/\s/.test(value) && isGenericSecretValue(hint, value)) {
        out.push({ rule: 'SEC-007', start, end: start + value.length, shown: '' });
      }
    }
  },
};

// SEC-008: quoted strings of base64 or hex characters that are random enough to be keys.
const QUOTED_TOKEN = /(["'`])([A-Za-z0-9+/=_-]{20,})\1/g;
/** base64 of PNG, JPEG, GIF, WebP and XML/SVG payloads: data, not keys. */
const MEDIA_BASE64 = /^(?:iVBORw0KGgo|\/9j\/|R0lGOD|UklGR|PD94bWwg|PHN2Zy)/;
const MAX_QUOTED_TOKEN = 256;

export function isHighEntropyToken(value: string): boolean {
  if (value.length > MAX_QUOTED_TOKEN || /^[0-9]+$/.test(value)) return false;
  const entropy = shannonEntropy(value.replace(/=+$/, ''));
  if (entropy <= 3.0) return false;
  if (isPlaceholder(value) || isSequentialOrRepeated(value)) return false;
  if (isHex(value)) return !isHexDigest(value);
  if (entropy <= 4.5 || isUuid(value) || MEDIA_BASE64.test(value)) return false;
  const classes = characterClasses(value);
  if (!(classes.digit || /[+/]/.test(value))) return false;
  if (Number(classes.upper) + Number(classes.lower) + Number(classes.digit) < 2) return false;
  return !looksLikeWords(value);
}

const highEntropy: Detector = {
  rule: 'SEC-008',
  gate: /["'`][A-Za-z0-9+/=_-]{20}/,
  gateKind: 'plain',
  find(text, _hint, out) {
    QUOTED_TOKEN.lastIndex = 0;
    for (let m = QUOTED_TOKEN.exec(text); m !== null; m = QUOTED_TOKEN.exec(text)) {
      const value = m[2] ?? '';
      if (isHighEntropyToken(value)) {
        out.push({ rule: 'SEC-008', start: m.index + 1, end: m.index + 1 + value.length, shown: '' });
      }
    }
  },
};

// SEC-009: scheme://user:password@host; the password is the secret.
const URL_CREDENTIALS =
  /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,30}:\/\/[^\s:@/?#"'`<>[\]{}]{0,128}:([^\s@/?#"'`<>]{1,256})@([A-Za-z0-9[._-][^\s/?#"'`<>]*)/g;
const NOT_A_PASSWORD = /^(?:x-oauth-basic|pass|pw|pwd|user|username|admin-password|p@ssw0rd|\*+|x+|\.+)$/i;

const urlCredentials: Detector = {
  rule: 'SEC-009',
  gate: /:\/\/[^\s:@/]*:[^\s@/]+@/,
  gateKind: 'literal',
  find(text, _hint, out) {
    URL_CREDENTIALS.lastIndex = 0;
    for (let m = URL_CREDENTIALS.exec(text); m !== null; m = URL_CREDENTIALS.exec(text)) {
      const password = m[1] ?? '';
      const host = m[2] ?? '';
      if (NOT_A_PASSWORD.test(password) || isTemplated(password) || isPlaceholder(password)) continue;
      if (isLookup(password) || /^example\.|\.example$|^(?:host|hostname)$/i.test(host)) continue;
      const end = m.index + m[0].length - host.length - 1;
      out.push({ rule: 'SEC-009', start: end - password.length, end, shown: '' });
    }
  },
};

// SEC-010..SEC-013: vendor keys with unambiguous prefixes.
const googleApiKey = prefixed(
  'SEC-010',
  /AIza/,
  /(?<![A-Za-z0-9_-])(AIza)([0-9A-Za-z_-]{35})(?![A-Za-z0-9_-])/g,
  (body) => randomEnough(body, 3.5),
);
const stripeKey = prefixed(
  'SEC-011',
  /[sr]k_live_/,
  /(?<![A-Za-z0-9_])([sr]k_live_)([0-9A-Za-z]{20,247})(?![A-Za-z0-9])/g,
  (body) => randomEnough(body, 3.5),
);
const huggingFaceToken = prefixed(
  'SEC-012',
  /hf_/,
  /(?<![A-Za-z0-9_])(hf_)([A-Za-z]{34})(?![A-Za-z0-9_])/g,
  (body) => /[A-Z]/.test(body) && /[a-z]/.test(body) && randomEnough(body, 3.5),
);
const AI_PROVIDER_KEY =
  /(?<![A-Za-z0-9_-])(sk-ant-(?:api|admin)\d\d-|sk-(?:(?:proj|svcacct|admin)-)?)([A-Za-z0-9_-]{20,250})(?![A-Za-z0-9_-])/g;
const aiProviderKey = prefixed('SEC-013', /sk-/, AI_PROVIDER_KEY, (body) => {
  const shaped = body.includes('T3BlbkFJ') || body.length >= 40;
  return shaped && /[0-9]/.test(body) && !looksLikeWords(body) && randomEnough(body, 3.5);
});

/**
 * Every detector, most specific first: when two hits overlap, the earlier rule wins (an AWS key id
 * inside `key = "AKIA…"` is SEC-001, not SEC-007).
 */
export const DETECTORS: readonly Detector[] = [
  privateKey,
  awsKeyId,
  githubToken,
  slack,
  googleApiKey,
  stripeKey,
  huggingFaceToken,
  aiProviderKey,
  jwt,
  awsSecret,
  urlCredentials,
  generic,
  highEntropy,
];
