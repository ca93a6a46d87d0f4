/**
 * The SEC-* rule catalogue: ids, default severities and why each rule exists (these texts feed
 * the docs and SARIF). How the family decides, for reviewers and users tuning a policy:
 *
 * - Where: cell sources (all cell types), stream text, text-like and JSON display data, error
 *   name, value and traceback (ANSI codes stripped), cell, output and notebook metadata (the nbops
 *   manifest included) at any depth up to 64, text-like attachments (base64-decoded), a sidecar
 *   manifest. Binary payloads (images, other non-text MIME types) are never decoded or judged.
 *   JSON keys are not scanned, only values.
 * - Pre-filter: a few cheap gates per text (literal prefixes, lower-cased keywords, a quoted run
 *   of 20 base64 characters); a detector's regex runs only when its gate passes.
 * - Context: SEC-002 needs `aws` or `secret` in the 100 characters before the value, an access key
 *   id in the same scanned text (cell texts are scanned in chunks of several cells), or a JSON key
 *   naming AWS or a secret. A JSON string under a credential-like key (`api_key`,
 *   `environment.HF_TOKEN`) is judged as that key's assigned value (SEC-007).
 * - Not secrets: values ending in EXAMPLE (AWS's documented keys), UUIDs, hex digests of standard
 *   lengths (md5, sha1/git, sha224/256/384/512; under a credential-like name only when the name
 *   says hash/sha/digest/commit/…, since e.g. Weights & Biases keys are 40 hex characters),
 *   sequences and repeats, placeholders (`xxxx`, `<your-key>`, `changeme`, …), templates (`$VAR`,
 *   `${X}`, `{{x}}`, `%(x)s`), lookups (`os.environ[…]`, `os.getenv(…)`, `getpass()`), words,
 *   identifiers and names (`bert-base-uncased`, `X448PublicKey`), paths, URLs, ARNs, base64 image
 *   payloads. About 1% of random 28-character alphanumeric tokens read as names and are missed by
 *   SEC-007/SEC-008 (0.2% at 40 characters); vendor-prefixed formats are unaffected.
 * - SEC-008 judges quoted strings of 20 to 256 characters: hex needs entropy above 3.0, base64
 *   above 4.5 plus a digit or `+`/`/`. Whole metadata values are not judged by SEC-008 (Colab and
 *   widget ids are random by design), only quoted strings inside them.
 * - Suppression: a `nbops:allow-secret`, `pragma: allowlist secret` or `gitleaks:allow` comment on
 *   the line where the secret starts; a policy `secrets.allowlist` entry whose `pattern` matches
 *   the secret or whose `sha256` is the secret's digest (warnings' fixes quote it).
 * - Redaction: the kind prefix (`AKIA`, `ghp_`, `xoxb-`, `eyJ`, a key's BEGIN marker), `…` and the
 *   length: `AKIA…(20 chars)`. Generic and context-only kinds show no prefix: `…(40 chars)`.
 */
import type { RuleSpec } from '../finding';

const spec = (
  id: string,
  defaultSeverity: RuleSpec['defaultSeverity'],
  title: string,
  rationale: string,
): RuleSpec => ({
  id,
  family: 'secrets',
  defaultSeverity,
  title,
  rationale,
});

const EXPOSED =
  'A notebook is copied to S3, into the version registry, into training jobs and into reports; a secret in it is readable by everyone who can read any of those, for as long as the version is kept.';

export const secretRules: RuleSpec[] = [
  spec(
    'SEC-001',
    'error',
    'AWS access key id',
    `Access key ids (AKIA…, ASIA…) identify long-lived or session AWS credentials. ${EXPOSED} Training jobs get credentials from their IAM role; notebooks never need keys.`,
  ),
  spec(
    'SEC-002',
    'error',
    'AWS secret access key',
    `A 40-character secret access key next to an AWS keyword or an access key id gives full use of that key. ${EXPOSED}`,
  ),
  spec(
    'SEC-003',
    'error',
    'Private key block',
    `PEM (RSA, DSA, EC, OpenSSH, PKCS#8, encrypted), PGP, PuTTY and OpenVPN private keys grant whatever the key protects: servers, signing, TLS. ${EXPOSED}`,
  ),
  spec(
    'SEC-004',
    'error',
    'GitHub token',
    `Personal access, OAuth, user-to-server, server-to-server and refresh tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_) act as the user on GitHub. ${EXPOSED}`,
  ),
  spec(
    'SEC-005',
    'error',
    'Slack token or webhook',
    `Slack bot, user, app and configuration tokens (xoxb-, xoxp-, xapp-, …) and incoming webhook URLs post as, or read as, the workspace app. ${EXPOSED}`,
  ),
  spec(
    'SEC-006',
    'warning',
    'JSON Web Token',
    `A JWT (header and payload confirmed as JSON) is a bearer credential until it expires; many are long-lived. ${EXPOSED}`,
  ),
  spec(
    'SEC-007',
    'warning',
    'Secret assigned to a credential-like name',
    `A random-looking literal assigned to a name such as api_key, token, password or secret is almost always a credential. ${EXPOSED}`,
  ),
  spec(
    'SEC-008',
    'warning',
    'High-entropy string',
    `A quoted string of random base64 or hex characters (entropy above 4.5 or 3.0 bits per character) is usually a key or token. ${EXPOSED}`,
  ),
  spec(
    'SEC-009',
    'error',
    'Password in a URL',
    `A URL of the form scheme://user:password@host (database, broker, proxy, git remote) carries the password in clear. ${EXPOSED}`,
  ),
  spec(
    'SEC-010',
    'error',
    'Google API key',
    `Google API keys (AIza…) bill Google Cloud and Maps usage to their project. ${EXPOSED}`,
  ),
  spec(
    'SEC-011',
    'error',
    'Stripe live secret key',
    `Stripe live secret and restricted keys (sk_live_, rk_live_) move real money. ${EXPOSED}`,
  ),
  spec(
    'SEC-012',
    'error',
    'Hugging Face access token',
    `Hugging Face tokens (hf_…) read private models and data sets and can push to the owner's repositories. ${EXPOSED}`,
  ),
  spec(
    'SEC-013',
    'error',
    'OpenAI or Anthropic API key',
    `OpenAI (sk-…T3BlbkFJ…, sk-proj-…) and Anthropic (sk-ant-…) keys bill model usage to their owner. ${EXPOSED}`,
  ),
];

export const secretRuleById: ReadonlyMap<string, RuleSpec> = new Map(secretRules.map((r) => [r.id, r]));
