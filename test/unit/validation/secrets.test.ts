import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Policy } from '#core/policy/policy.generated';
import type { CheckContext } from '#core/validation/family';
import type { Finding } from '#core/validation/finding';
import { secretRules, secretsFamily } from '#core/validation/secrets';
import { ALNUM, draw, type PlantedKind, placements, plantedKinds, prng } from './secrets/planted';

type Reported = Omit<Finding, 'severity'> & { severity?: Finding['severity'] };

function check(notebook: unknown, policy: Policy = {}, manifest?: CheckContext['manifest']): Reported[] {
  const findings: Reported[] = [];
  const ctx: CheckContext = {
    notebook,
    // The family walks the parsed notebook; the text only serves other families' locators.
    text: '',
    policy,
    report: (f) => findings.push(f),
  };
  if (manifest) ctx.manifest = manifest;
  secretsFamily.check(ctx);
  return findings;
}

function codeNotebook(
  source: string | string[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: 'code', id: 'c0', metadata: {}, execution_count: null, source, outputs: [], ...extra },
    ],
  };
}

/** Every 8-character window of the secret part: none may appear in a finding. */
function windows(secretPart: string): string[] {
  const compact = secretPart.replace(/\s+/g, '');
  const out: string[] = [];
  for (let i = 0; i + 8 <= compact.length; i++) out.push(compact.slice(i, i + 8));
  return out;
}

const kinds = plantedKinds();
const cases = kinds.flatMap((kind) => placements.map((place) => ({ kind, place })));

describe('secrets family: planted secrets', () => {
  it('plants every rule the catalogue has', () => {
    expect(new Set(kinds.map((k) => k.rule))).toEqual(new Set(secretRules.map((r) => r.id)));
  });

  it.each(cases.map((c) => [c.kind.name, c.place.name, c.kind, c.place] as const))(
    '%s in %s is found with the right rule and location',
    (_kind, _place, kind, place) => {
      const { notebook, expected } = place.build(kind);
      const findings = check(notebook);
      expect(findings.map((f) => ({ rule: f.rule, ...f.location }))).toEqual([
        { rule: kind.rule, ...expected },
      ]);
    },
  );

  it('never echoes a planted secret, or any 8 characters of it, in any finding', () => {
    // Several draws of every kind, in every place; each must also be found.
    for (const seed of [1, 2, 3, 4]) {
      for (const kind of plantedKinds(seed)) {
        for (const place of placements) {
          const findings = check(place.build(kind).notebook);
          const where = `${kind.name} (seed ${seed}) in ${place.name}`;
          expect(
            findings.map((f) => f.rule),
            where,
          ).toEqual([kind.rule]);
          const out = JSON.stringify(findings);
          expect(out, where).not.toContain(kind.secret);
          for (const w of windows(kind.secretPart)) {
            if (out.includes(w)) throw new Error(`${where}: a finding contains "${w}"`);
          }
        }
      }
    }
  });

  it('names the kind, the redacted form and the place in the message, and redacts the snippet', () => {
    const aws = kinds.find((k) => k.rule === 'SEC-001')!;
    const [finding] = check(codeNotebook(`import boto3\nclient = boto3.client("s3", ${aws.line})  # prod\n`));
    expect(finding).toMatchObject({
      rule: 'SEC-001',
      message: 'AWS access key id AKIA…(20 chars) in cell 0 source, line 2.',
      snippet: 'client = boto3.client("s3", aws_access_key_id = "AKIA…(20 chars)")  # prod',
      location: { pointer: '/cells/0/source', cell: 0, line: 2 },
    });
    expect(finding!.fix).toMatch(
      /Remove the secret from cell 0 source.*Deactivate and delete the access key in IAM/,
    );
  });

  it('shows only the BEGIN marker of a private key', () => {
    const pem = kinds.find((k) => k.rule === 'SEC-003')!;
    const [finding] = check(codeNotebook(`KEY = """${pem.line}"""\n`));
    expect(finding!.snippet).toBe(`KEY = """-----BEGIN RSA PRIVATE KEY-----…(${pem.secret.length} chars)`);
  });

  it('redacts every secret on the snippet line, not just the one reported', () => {
    const id = kinds.find((k) => k.rule === 'SEC-001')!;
    const secret = kinds.find((k) => k.rule === 'SEC-002')!;
    const findings = check(codeNotebook(`session(key="${id.secret}", aws_secret="${secret.secret}")`));
    expect(findings.map((f) => f.rule)).toEqual(['SEC-001', 'SEC-002']);
    for (const f of findings)
      expect(f.snippet).toBe('session(key="AKIA…(20 chars)", aws_secret="…(40 chars)")');
  });

  it('cuts the snippet of a very long line around the secret', () => {
    const gh = kinds.find((k) => k.rule === 'SEC-004')!;
    const minified = `${'{"a":1,'.repeat(2000)}"token":"${gh.secret}",${'"b":2,'.repeat(2000)}}`;
    const [finding] = check(
      codeNotebook('show()', { outputs: [{ output_type: 'stream', name: 'stdout', text: minified }] }),
    );
    expect(finding!.snippet).toMatch(/^….{90,110}"token":"ghp_…\(40 chars\)",.{90,110}…$/);
  });

  it('reports every one of thousands of secrets in one large output, each on its line', () => {
    const r = prng(99);
    const tokens = Array.from({ length: 3000 }, () => `ghp_${draw(r, 36, ALNUM)}`);
    const text = tokens.map((t, k) => `${'x'.repeat(k % 50)} row ${k} token ${t}\n`);
    const findings = check(
      codeNotebook('dump()', { outputs: [{ output_type: 'stream', name: 'stdout', text }] }),
    );
    expect(findings).toHaveLength(3000);
    expect(findings[2999]!.location).toEqual({
      pointer: '/cells/0/outputs/0/text/2999',
      cell: 0,
      line: 3000,
    });
    expect(findings[2999]!.snippet).toBe(`${'x'.repeat(2999 % 50)} row 2999 token ghp_…(40 chars)`);
  });

  it('cuts a private key without END marker at the end of its output', () => {
    const pem = kinds.find((k) => k.rule === 'SEC-003')!;
    const truncated = pem.secret.slice(0, pem.secret.indexOf('-----END'));
    const gh = kinds.find((k) => k.rule === 'SEC-004')!;
    const notebook = codeNotebook('cat()', {
      outputs: [
        { output_type: 'stream', name: 'stdout', text: truncated },
        { output_type: 'stream', name: 'stdout', text: gh.secret },
      ],
    });
    const findings = check(notebook);
    expect(findings.map((f) => [f.rule, f.location.pointer])).toEqual([
      ['SEC-003', '/cells/0/outputs/0/text'],
      ['SEC-004', '/cells/0/outputs/1/text'],
    ]);
    expect(findings[0]!.message).toContain(
      `-----BEGIN RSA PRIVATE KEY-----…(${truncated.trimEnd().length} chars)`,
    );
  });

  it('offers the sha256 for a policy allowlist entry on warnings', () => {
    const generic = kinds.find((k) => k.rule === 'SEC-007')!;
    const [finding] = check(codeNotebook(generic.line));
    const sha = createHash('sha256').update(generic.secret).digest('hex');
    expect(finding!.fix).toContain(`sha256 ${sha}`);
    expect(finding!.fix).toContain('nbops:allow-secret');
  });

  it('reports a secret in a sidecar manifest with the sidecar file and line', () => {
    const token = kinds.find((k) => k.rule === 'SEC-004')!;
    const findings = check(
      codeNotebook('train()'),
      {},
      {
        origin: 'sidecar',
        pointer: '',
        file: 'churn.nbops.yaml',
        raw: { name: 'churn', training: { environment: { GITHUB_TOKEN: token.secret } } },
        lineOf: (p) => (p === '/training/environment/GITHUB_TOKEN' ? 7 : undefined),
      },
    );
    expect(findings.map((f) => ({ rule: f.rule, ...f.location }))).toEqual([
      { rule: 'SEC-004', pointer: '/training/environment/GITHUB_TOKEN', line: 7, file: 'churn.nbops.yaml' },
    ]);
    expect(findings[0]!.message).toContain(
      'the sidecar manifest churn.nbops.yaml (training.environment.GITHUB_TOKEN)',
    );
  });

  it('finds secrets in several outputs of one cell and maps each to its own output', () => {
    const gh = kinds.find((k) => k.rule === 'SEC-004')!;
    const hf = kinds.find((k) => k.rule === 'SEC-012')!;
    const notebook = codeNotebook('run()', {
      outputs: [
        { output_type: 'stream', name: 'stdout', text: ['a\n', 'b\n'] },
        { output_type: 'error', ename: 'E', evalue: 'x', traceback: ['first', `second\n${gh.line}`] },
        { output_type: 'stream', name: 'stderr', text: `warning\n\n${hf.line}\n` },
      ],
    });
    expect(check(notebook).map((f) => ({ rule: f.rule, ...f.location }))).toEqual([
      { rule: 'SEC-004', pointer: '/cells/0/outputs/1/traceback/1', cell: 0, line: 2 },
      { rule: 'SEC-012', pointer: '/cells/0/outputs/2/text', cell: 0, line: 3 },
    ]);
  });
});

describe('secrets family: many cells', () => {
  const gh = kinds.find((k) => k.rule === 'SEC-004')!;
  const aws = kinds.find((k) => k.rule === 'SEC-001')!;
  const filler = (n: number) => Array.from({ length: n }, (_, k) => `row ${k}: loss=0.${k % 97} acc=0.9\n`);

  it('maps each finding to its own cell across cells scanned together and in separate chunks', () => {
    const cells: unknown[] = [];
    for (let i = 0; i < 40; i++) {
      cells.push({
        cell_type: 'code',
        id: `c${i}`,
        metadata: {},
        execution_count: i,
        source: i === 3 ? ['x = 1\n', `token = "${gh.secret}"\n`] : `step(${i})`,
        // ~8 KB of output per cell, so the cells are scanned in several chunks.
        outputs: [{ output_type: 'stream', name: 'stdout', text: filler(300) }],
      });
    }
    cells.splice(5, 0, 'not a cell');
    const last = cells[39] as { outputs: { text: string[] }[] };
    last.outputs[0]!.text.splice(250, 0, `key id ${aws.secret}\n`);
    const findings = check({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells });
    expect(findings.map((f) => ({ rule: f.rule, ...f.location }))).toEqual([
      { rule: 'SEC-004', pointer: '/cells/3/source/1', cell: 3, line: 2 },
      { rule: 'SEC-001', pointer: '/cells/39/outputs/0/text/250', cell: 39, line: 251 },
    ]);
  });
});

describe('secrets family: JSON values', () => {
  const hf = kinds.find((k) => k.rule === 'SEC-012')!;

  it('walks application/json arrays and +json types, and reads a JSON string value as text', () => {
    const notebook = codeNotebook('show()', {
      outputs: [
        {
          output_type: 'display_data',
          metadata: {},
          data: {
            'application/json': [{ name: 'a' }, { env: ['x', hf.secret] }],
            'application/vnd.custom+json': { nested: { deeper: `token ${hf.secret}` } },
            'application/geo+json': `{"key": "${hf.secret}"}`,
          },
        },
      ],
    });
    // Report order is the orchestrator's business (it sorts); compare as a set.
    expect(
      check(notebook)
        .map((f) => f.location.pointer)
        .sort(),
    ).toEqual([
      '/cells/0/outputs/0/data/application~1geo+json',
      '/cells/0/outputs/0/data/application~1json/1/env/1',
      '/cells/0/outputs/0/data/application~1vnd.custom+json/nested/deeper',
    ]);
  });

  it('describes manifest strings by their manifest path', () => {
    const notebook = { cells: [], metadata: { nbops: { serving: { headers: ['x', hf.secret] } } } };
    const [finding] = check(notebook);
    expect(finding!.message).toBe(
      'Hugging Face access token hf_…(37 chars) in the nbops manifest (serving.headers.1), line 1.',
    );
    expect(finding!.fix).toMatch(/^Remove the secret from the nbops manifest/);
  });
});

describe('secrets family: decoys', () => {
  it('flags nothing in a realistic notebook full of look-alikes', () => {
    // UUIDs, sha256/sha1/md5 digests, git SHAs, PNG and JPEG attachments, an image/png output,
    // AWS's documented EXAMPLE keys, placeholders, env lookups, getpass, tokenizer code, ARNs.
    const notebook: unknown = JSON.parse(readFileSync('test/fixtures/secrets/decoys.ipynb', 'utf8'));
    expect(check(notebook)).toEqual([]);
  });

  it.each([
    ["os.environ['AWS_SECRET_ACCESS_KEY']", "aws_secret = os.environ['AWS_SECRET_ACCESS_KEY']"],
    ['getpass', 'password = getpass()'],
    ['getenv with a default name', 'token = os.getenv("HF_TOKEN", "HF_TOKEN_MISSING")'],
    ['a UUID', 'api_key = "123e4567-e89b-12d3-a456-426614174000"'],
    ['AWS example key id', 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE'],
    ['AWS example secret', 'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"'],
    ['a templated value', 'api_key: "{{ secrets.API_KEY }}"'],
    ['a shell variable', 'export API_TOKEN=$API_TOKEN_FROM_VAULT'],
    ['an angle-bracket placeholder', 'password = "<your-password-here>"'],
    ['x-ed placeholder', 'api_key = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"'],
    ['a sequence', 'secret = "abcdefghijklmnopqrstuvwxyz012345"'],
    ['a sha256 digest', 'expected = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"'],
    ['a git SHA', "revision = '0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33'"],
    ['a model name', 'tokenizer_name = "sentence-transformers/all-MiniLM-L6-v2"'],
    ['prose', 'The API key is read from the environment; never paste your token into a cell.'],
    ['a KeyError', "KeyError: 'customer_lifetime_value'"],
    ['an S3 URI', 'access_point = "s3://ml-data/churn/2024/part-00001.parquet"'],
    ['a URL without a password', 'endpoint = "https://user@example.org:8443/api/v2/token"'],
    ['a URL with a placeholder password', 'url = "postgresql://user:password@db:5432/x"'],
    ['a camel-case class name', 'model = "TransformerEncoderLayerWithRotaryEmbeddings"'],
    ['a numeric id', 'account = "123456789012345678901234"'],
  ])('does not flag %s', (_name, line) => {
    expect(check(codeNotebook(`${line}\n`))).toEqual([]);
  });

  it('does not flag the metadata Colab, VS Code and widgets write', () => {
    const metadata = {
      colab: { provenance: [], authorship_tag: 'ABX9TyPj3VVHpcl4a7Z7Ix2ojSRB', gpuType: 'T4' },
      vscode: { interpreter: { hash: createHash('sha256').update('env').digest('hex') } },
      widgets: {
        'application/vnd.jupyter.widget-state+json': {
          state: {
            '6f1c2b7d9e0a4c3b8a5d2e1f0c9b8a7d': { model_name: 'HBoxModel', state: { layout: 'IPY_MODEL_x' } },
          },
        },
      },
      accelerator: 'GPU',
    };
    expect(check({ nbformat: 4, nbformat_minor: 5, metadata, cells: [] })).toEqual([]);
  });

  it('never decodes binary attachments or image outputs', () => {
    // Base64 of random bytes is as random as a key; image payloads are skipped, not judged.
    const random = createHash('sha512').update('noise').digest('base64').repeat(8);
    const notebook = codeNotebook('plot()', {
      outputs: [
        { output_type: 'display_data', metadata: {}, data: { 'image/png': random, 'image/jpeg': [random] } },
      ],
    });
    const cells = notebook.cells as Record<string, unknown>[];
    cells.push({
      cell_type: 'markdown',
      id: 'm',
      metadata: {},
      source: '![x](attachment:x.png)',
      attachments: { 'x.png': { 'image/png': random }, 'y.bin': { 'application/octet-stream': random } },
    });
    expect(check(notebook)).toEqual([]);
  });
});

describe('secrets family: allowlists', () => {
  const token = kinds.find((k) => k.rule === 'SEC-004')!;
  const aws = kinds.find((k) => k.rule === 'SEC-001')!;

  it.each(['# nbops:allow-secret', '# pragma: allowlist secret', '# gitleaks:allow'])(
    'an inline %s comment suppresses that line only',
    (comment) => {
      const findings = check(codeNotebook([`a = "${token.secret}"  ${comment}\n`, `b = "${aws.secret}"\n`]));
      expect(findings.map((f) => f.rule)).toEqual(['SEC-001']);
    },
  );

  it('a policy pattern suppresses the findings whose secret matches it', () => {
    const policy: Policy = { secrets: { allowlist: [{ pattern: '^ghp_', reason: 'test fixtures' }] } };
    const findings = check(codeNotebook(`a = "${token.secret}"\nb = "${aws.secret}"\n`), policy);
    expect(findings.map((f) => f.rule)).toEqual(['SEC-001']);
  });

  it('a policy sha256 suppresses exactly that secret', () => {
    const sha = createHash('sha256').update(aws.secret).digest('hex');
    const policy: Policy = { secrets: { allowlist: [{ sha256: sha, reason: 'revoked test key' }] } };
    expect(check(codeNotebook(aws.line), policy)).toEqual([]);
    const other: Policy = { secrets: { allowlist: [{ sha256: 'a'.repeat(64), reason: 'other' }] } };
    expect(check(codeNotebook(aws.line), other).map((f) => f.rule)).toEqual(['SEC-001']);
  });

  it('an invalid policy pattern allows nothing and does not crash', () => {
    const policy: Policy = { secrets: { allowlist: [{ pattern: '(unclosed', reason: 'typo' }] } };
    expect(check(codeNotebook(aws.line), policy).map((f) => f.rule)).toEqual(['SEC-001']);
  });
});

describe('secrets family: untrusted input', () => {
  const aws: PlantedKind = kinds.find((k) => k.rule === 'SEC-001')!;

  it.each([
    ['null', null],
    ['an array', []],
    ['a string', 'notebook'],
    ['cells not a list', { cells: { 0: {} }, metadata: 'x' }],
    [
      'odd cells',
      { cells: [null, 3, 'x', [], { source: 42, outputs: 'no', attachments: [], metadata: null }] },
    ],
    [
      'odd outputs',
      {
        cells: [
          {
            source: ['a', 7, null],
            outputs: [
              null,
              { output_type: 'stream', text: [1, 2] },
              { output_type: 'error', ename: 3, evalue: null, traceback: 'not a list' },
              { output_type: 'error', traceback: [null, 5, 'ok'] },
              {
                output_type: 'execute_result',
                data: { 'text/plain': { nested: true }, 'application/json': 'raw' },
              },
              { output_type: 'display_data', data: null },
            ],
            attachments: { a: null, b: { 'text/plain': '%%%not base64%%%' }, c: { 'text/plain': 12 } },
          },
        ],
      },
    ],
  ])('does not crash on %s', (_name, notebook) => {
    expect(() => check(notebook)).not.toThrow();
  });

  it('walks deeply nested metadata without recursion and stops at a depth cap', () => {
    let deep: Record<string, unknown> = { leaf: aws.secret };
    for (let i = 0; i < 20_000; i++) deep = { d: deep };
    const shallow = { a: { b: { c: aws.secret } } };
    const findings = check({ cells: [], metadata: { deep, shallow } });
    expect(findings.map((f) => f.location.pointer)).toEqual(['/metadata/shallow/a/b/c']);
  });

  it('escapes JSON pointer tokens in keys', () => {
    const findings = check({ cells: [], metadata: { 'a/b': { '~x': aws.secret } } });
    expect(findings[0]!.location.pointer).toBe('/metadata/a~1b/~0x');
  });
});
