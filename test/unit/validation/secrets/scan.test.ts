import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactSecrets, scanText } from '#core/validation/secrets';
import { shannonEntropy } from '#core/validation/secrets/entropy';
import { ALNUM, draw, plantedKinds, prng } from './planted';

const kinds = plantedKinds(7);
const kind = (rule: string) => kinds.find((k) => k.rule === rule)!;

describe('scanText', () => {
  it.each(kinds.map((k) => [k.name, k] as const))('finds a %s with its exact span', (_name, k) => {
    const text = `# setup\n${k.line}\nprint("ok")\n`;
    const matches = scanText(text);
    expect(matches).toHaveLength(1);
    const [m] = matches;
    expect(m!.rule).toBe(k.rule);
    expect(text.slice(m!.start, m!.end)).toBe(k.secret);
  });

  it('gives each redacted form a kind prefix and the length only', () => {
    const forms = Object.fromEntries(
      kinds.map((k) => [k.name, scanText(k.line)[0]!.redacted.replace(/\(\d+ chars\)$/, '(n chars)')]),
    );
    expect(forms).toEqual({
      'AWS access key id': 'AKIA…(n chars)',
      'AWS secret access key': '…(n chars)',
      'GitHub classic token': 'ghp_…(n chars)',
      'GitHub fine-grained token': 'github_pat_…(n chars)',
      'Slack bot token': 'xoxb-…(n chars)',
      'Slack webhook': 'https://hooks.slack.com/services/…(n chars)',
      JWT: 'eyJ…(n chars)',
      'generic API key': '…(n chars)',
      'high-entropy string': '…(n chars)',
      'Google API key': 'AIza…(n chars)',
      'Stripe live key': 'sk_live_…(n chars)',
      'Hugging Face token': 'hf_…(n chars)',
      'OpenAI key': 'sk-proj-…(n chars)',
      'Anthropic key': 'sk-ant-api03-…(n chars)',
      'password in URL': '…(n chars)',
      'RSA private key': '-----BEGIN RSA PRIVATE KEY-----…(n chars)',
    });
    expect(scanText(kind('SEC-001').line)[0]!.redacted).toBe('AKIA…(20 chars)');
  });

  it('prefers the specific rule when a generic rule matches the same text', () => {
    // `api_key = "AKIA…"` is also a keyword assignment and a high-entropy string.
    const text = `api_key = "${kind('SEC-001').secret}"\ntoken = "${kind('SEC-006').secret}"`;
    expect(scanText(text).map((m) => m.rule)).toEqual(['SEC-001', 'SEC-006']);
  });

  it('sees an AWS secret key only with an AWS keyword or key id near it', () => {
    const secret = kind('SEC-002').secret;
    expect(scanText(`value = "${secret}"`).map((m) => m.rule)).toEqual(['SEC-008']);
    expect(scanText(`AWS credentials: ${secret}`).map((m) => m.rule)).toEqual(['SEC-002']);
    expect(scanText(`${kind('SEC-001').secret} ${secret}`).map((m) => m.rule)).toEqual([
      'SEC-001',
      'SEC-002',
    ]);
    // A 40-character hex string next to the keyword is a digest (or a placeholder), never an AWS key.
    const hex = draw(prng(9), 40, '0123456789abcdef');
    expect(scanText(`aws secret ${hex}`)).toEqual([]);
    expect(scanText(`aws secret ${'0123456789abcdef'.repeat(3).slice(0, 40)}`)).toEqual([]);
  });

  it('confirms JWTs by decoding header and payload', () => {
    const jwt = kind('SEC-006').secret;
    const [header, , signature] = jwt.split('.');
    const notJson = Buffer.from('not json at all, really').toString('base64url');
    expect(scanText(`t = ${jwt}`).map((m) => m.rule)).toEqual(['SEC-006']);
    expect(scanText(`t = ${header}.eyJ${notJson}.${signature}`)).toEqual([]);
  });

  it('judges generic assignments by the value, not the name', () => {
    const value = draw(prng(3), 28, ALNUM);
    expect(scanText(`DB_PASS=${value}`).map((m) => m.rule)).toEqual(['SEC-007']);
    expect(scanText(`"client_secret": "${value}"`).map((m) => m.rule)).toEqual(['SEC-007']);
    expect(scanText(`headers = {"Authorization": "Bearer ${value}"}`).map((m) => m.rule)).toEqual([
      'SEC-007',
    ]);
    expect(scanText(`api_key: str = "${value}"`).map((m) => m.rule)).toEqual(['SEC-007']);
    expect(scanText(`os.environ.setdefault("API_TOKEN", "${value}")`).map((m) => m.rule)).toEqual([
      'SEC-007',
    ]);
    // Expressions, names, low-entropy words and identifiers are not credentials.
    expect(scanText(`token = tokenizer_v2.encode(text)`)).toEqual([]);
    expect(scanText(`api_key = settings.api_key_from_vault`)).toEqual([]);
    expect(scanText(`password = "correcthorsebattery"`)).toEqual([]);
    expect(scanText(`secret_name = "prod/churn/warehouse-2024"`)).toEqual([]);
    expect(scanText(`token_count = 1234567890123`)).toEqual([]);
  });

  it('honours allowlist comments on the same line only', () => {
    const token = kind('SEC-004').secret;
    expect(scanText(`x = "${token}"  # nbops:allow-secret`)).toEqual([]);
    expect(scanText(`x = "${token}"  # pragma: allowlist secret`)).toEqual([]);
    expect(scanText(`x = "${token}"  // gitleaks:allow`)).toEqual([]);
    expect(scanText(`# nbops:allow-secret\nx = "${token}"`)).toHaveLength(1);
  });

  it('needs key material after a private key marker', () => {
    expect(scanText('if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):')).toEqual([]);
    const pem = kind('SEC-003').secret;
    const truncated = pem.slice(0, pem.indexOf('-----END'));
    expect(scanText(truncated).map((m) => m.rule)).toEqual(['SEC-003']);
  });

  it('recognises the other private key formats', () => {
    const body = Array.from({ length: 4 }, () => draw(prng(11), 64, `${ALNUM}+/`)).join('\n');
    const formats = [
      `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----`,
      `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${body}\n-----END PGP PRIVATE KEY BLOCK-----`,
      `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${body}\n-----END ENCRYPTED PRIVATE KEY-----`,
      `---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n${body}\n---- END SSH2 ENCRYPTED PRIVATE KEY ----`,
      `-----BEGIN OpenVPN Static key V1-----\n${body}\n-----END OpenVPN Static key V1-----`,
      `PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nPublic-Lines: 1\n${body}\nPrivate-Lines: 4\n${body}\nPrivate-MAC: 4f9a`,
    ];
    for (const block of formats) {
      const matches = scanText(`${block}\n`);
      expect(
        matches.map((m) => m.rule),
        block.slice(0, 40),
      ).toEqual(['SEC-003']);
      expect(matches[0]!.end - matches[0]!.start).toBe(block.length);
    }
  });

  it('skips base64 image payloads even inside quotes', () => {
    const png = `iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk${draw(prng(5), 40, ALNUM)}`;
    expect(scanText(`img = "${png}"`)).toEqual([]);
  });

  it('strips nothing but reports offsets into the text given', () => {
    const text = `é\u{1F600} token="${kind('SEC-012').secret}"`;
    const [m] = scanText(text);
    expect(text.slice(m!.start, m!.end)).toBe(kind('SEC-012').secret);
  });
});

describe('redactSecrets', () => {
  it('replaces every secret and leaves the rest of the text alone', () => {
    const text = `a = "${kind('SEC-004').secret}"\nb = 1\nurl = "${kind('SEC-009').line}"`;
    expect(redactSecrets(text)).toBe(
      'a = "ghp_…(40 chars)"\nb = 1\nurl = "engine = create_engine("postgresql://ml_app:…(16 chars)@db.internal.corp.net:5432/features")"',
    );
    expect(redactSecrets('nothing to see here')).toBe('nothing to see here');
  });

  it('redacts a sidecar manifest (YAML) before it is stored', () => {
    const yaml = [
      'name: churn',
      'training:',
      '  environment:',
      `    HF_TOKEN: ${kind('SEC-012').secret}`,
      `    DB_PASSWORD: ${kind('SEC-007').secret}`,
      '    TOKENIZERS_PARALLELISM: "false"',
    ].join('\n');
    expect(redactSecrets(yaml).split('\n').slice(3)).toEqual([
      '    HF_TOKEN: hf_…(37 chars)',
      '    DB_PASSWORD: …(32 chars)',
      '    TOKENIZERS_PARALLELISM: "false"',
    ]);
  });

  it('is idempotent', () => {
    const text = kinds.map((k) => k.line).join('\n');
    const once = redactSecrets(text);
    expect(redactSecrets(once)).toBe(once);
    for (const k of kinds) expect(once).not.toContain(k.secret);
  });
});

describe('properties', () => {
  const secretsArb = fc.constantFrom(...kinds.filter((k) => !k.line.includes('\n')));
  const noise = fc.string({ maxLength: 60 }).map((s) => s.replace(/[^ a-z.,]/g, ' '));

  it('a secret planted between prose lines is found and redacted away', () => {
    fc.assert(
      fc.property(noise, secretsArb, noise, (before, k, after) => {
        const text = `${before}\n${k.line}\n${after}`;
        const rules = scanText(text).map((m) => m.rule);
        expect(rules).toContain(k.rule);
        expect(redactSecrets(text)).not.toContain(k.secret);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws and returns ordered, non-overlapping spans inside the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400, unit: 'binary' }), (text) => {
        const matches = scanText(text);
        let last = 0;
        for (const m of matches) {
          expect(m.start).toBeGreaterThanOrEqual(last);
          expect(m.end).toBeGreaterThan(m.start);
          expect(m.end).toBeLessThanOrEqual(text.length);
          last = m.end;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('Shannon entropy is 0 for one repeated symbol and log2(n) for n distinct symbols', () => {
    expect(shannonEntropy('aaaaaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBeCloseTo(2);
    expect(shannonEntropy(ALNUM)).toBeCloseTo(Math.log2(62));
    expect(shannonEntropy('ééáá')).toBeCloseTo(1);
  });
});
