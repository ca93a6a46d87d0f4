/**
 * Planted secrets for the tests: one realistic instance of each kind, generated from a seeded
 * PRNG at test time (so the repository holds no string a secret scanner would flag), and the
 * places a notebook can hide them, each with the location a finding must report.
 */

/** mulberry32: small, deterministic, good enough to draw test tokens. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
export const ALNUM = UPPER + LOWER + DIGITS;
export const BASE64 = `${ALNUM}+/`;
const BASE32 = `${UPPER}234567`;
const BASE64URL = `${ALNUM}-_`;

export function draw(random: () => number, length: number, alphabet: string): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

/** A token that has every character class (real random tokens of this length always do). */
function mixed(random: () => number, length: number, alphabet: string): string {
  for (;;) {
    const token = draw(random, length, alphabet);
    if (/[A-Z]/.test(token) && /[a-z]/.test(token) && /[0-9]/.test(token)) return token;
  }
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export interface PlantedKind {
  name: string;
  rule: string;
  /** The whole secret as it appears in text. */
  secret: string;
  /** The part that must never appear in a finding (the secret minus its public kind prefix). */
  secretPart: string;
  /** How the secret appears in code or output text; may span lines (the secret starts on the first). */
  line: string;
  /** How it appears as a JSON value (metadata, application/json): under `key`, with `value`. */
  key: string;
  value: string;
}

export function plantedKinds(seed = 20240601): PlantedKind[] {
  const r = prng(seed);
  const kinds: PlantedKind[] = [];
  const add = (
    name: string,
    rule: string,
    prefix: string,
    body: string,
    line: (s: string) => string,
    key: string,
  ) => {
    const secret = prefix + body;
    kinds.push({ name, rule, secret, secretPart: body, line: line(secret), key, value: secret });
  };
  add(
    'AWS access key id',
    'SEC-001',
    'AKIA',
    draw(r, 16, BASE32),
    (s) => `aws_access_key_id = "${s}"`,
    'AWS_ACCESS_KEY_ID',
  );
  add(
    'AWS secret access key',
    'SEC-002',
    '',
    mixed(r, 40, BASE64),
    (s) => `aws_secret_access_key = "${s}"`,
    'AWS_SECRET_ACCESS_KEY',
  );
  add(
    'GitHub classic token',
    'SEC-004',
    'ghp_',
    mixed(r, 36, ALNUM),
    (s) => `GITHUB_TOKEN = "${s}"`,
    'GITHUB_TOKEN',
  );
  add(
    'GitHub fine-grained token',
    'SEC-004',
    'github_pat_',
    `${mixed(r, 22, ALNUM)}_${mixed(r, 59, ALNUM)}`,
    (s) => `gh = Github("${s}")`,
    'GH_PAT',
  );
  add(
    'Slack bot token',
    'SEC-005',
    'xoxb-',
    `${draw(r, 12, DIGITS)}-${draw(r, 13, DIGITS)}-${mixed(r, 24, ALNUM)}`,
    (s) => `client = WebClient(token="${s}")`,
    'SLACK_BOT_TOKEN',
  );
  add(
    'Slack webhook',
    'SEC-005',
    'https://hooks.slack.com/services/',
    `T${draw(r, 10, UPPER + DIGITS)}/B${draw(r, 10, UPPER + DIGITS)}/${mixed(r, 24, ALNUM)}`,
    (s) => `requests.post("${s}", json=msg)`,
    'ALERT_WEBHOOK',
  );
  const jwt = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: draw(r, 12, ALNUM), iat: 1717200000, role: 'admin' })}.${draw(r, 43, BASE64URL)}`;
  add('JWT', 'SEC-006', 'eyJ', jwt.slice(3), (s) => `headers = {"Authorization": "Bearer ${s}"}`, 'id_token');
  add('generic API key', 'SEC-007', '', mixed(r, 32, ALNUM), (s) => `api_key = "${s}"`, 'WANDB_API_KEY');
  add('high-entropy string', 'SEC-008', '', mixed(r, 44, BASE64), (s) => `blob = "${s}"`, 'note');
  add(
    'Google API key',
    'SEC-010',
    'AIza',
    mixed(r, 35, `${ALNUM}-_`),
    (s) => `gmaps = Client(key="${s}")`,
    'MAPS_KEY',
  );
  add(
    'Stripe live key',
    'SEC-011',
    'sk_live_',
    mixed(r, 24, ALNUM),
    (s) => `stripe.api_key = "${s}"`,
    'STRIPE_KEY',
  );
  add('Hugging Face token', 'SEC-012', 'hf_', mixedLetters(r, 34), (s) => `login(token="${s}")`, 'HF_TOKEN');
  add(
    'OpenAI key',
    'SEC-013',
    'sk-proj-',
    `${mixed(r, 74, `${ALNUM}-_`)}T3BlbkFJ${mixed(r, 74, `${ALNUM}-_`)}`,
    (s) => `client = OpenAI(api_key="${s}")`,
    'OPENAI_API_KEY',
  );
  add(
    'Anthropic key',
    'SEC-013',
    'sk-ant-api03-',
    `${mixed(r, 93, `${ALNUM}-_`)}AA`,
    (s) => `client = Anthropic(api_key="${s}")`,
    'ANTHROPIC_API_KEY',
  );

  // The password is the secret; the rest of the URL is not.
  const password = mixed(r, 16, ALNUM);
  const url = `postgresql://ml_app:${password}@db.internal.corp.net:5432/features`;
  kinds.push({
    name: 'password in URL',
    rule: 'SEC-009',
    secret: password,
    secretPart: password,
    line: `engine = create_engine("${url}")`,
    key: 'DATABASE_URL',
    value: url,
  });

  const body = Array.from({ length: 6 }, () => draw(r, 64, BASE64)).join('\n');
  const pem = `-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----`;
  kinds.push({
    name: 'RSA private key',
    rule: 'SEC-003',
    secret: pem,
    secretPart: body,
    line: pem,
    key: 'ssh_private_key',
    value: pem,
  });

  // 'note' carries the high-entropy token in quotes, as prose mentioning it would.
  const high = kinds.find((k) => k.rule === 'SEC-008')!;
  high.value = `cache blob "${high.secret}" expired`;
  return kinds;
}

function mixedLetters(random: () => number, length: number): string {
  for (;;) {
    const token = draw(random, length, UPPER + LOWER);
    if (/[A-Z]/.test(token) && /[a-z]/.test(token)) return token;
  }
}

export interface Expected {
  pointer: string;
  cell?: number;
  line: number;
}

export interface Placement {
  name: string;
  build(kind: PlantedKind): { notebook: Record<string, unknown>; expected: Expected };
}

const escapeToken = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');
/** Splits text into nbformat list-form lines (each but the last ends with a newline). */
const lines = (text: string): string[] => text.split(/(?<=\n)/);

function notebookWith(cells: unknown[], metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3' }, ...metadata },
    cells,
  };
}

const intro = { cell_type: 'markdown', id: 'intro', metadata: {}, source: '# Training\n\nLoads the data.' };
const codeCell = (source: unknown, outputs: unknown[] = []) => ({
  cell_type: 'code',
  id: 'train',
  metadata: {},
  execution_count: 1,
  source,
  outputs,
});

/** An IPython-style coloured rendering of a code line, as tracebacks show them. */
const coloured = (line: string) =>
  line.replace(/ = /g, ' \u001b[38;5;241m=\u001b[39m ').replace(/"/g, '\u001b[38;5;124m"\u001b[39m');

export const placements: Placement[] = [
  {
    name: 'code source (string form)',
    build: (k) => ({
      notebook: notebookWith([intro, codeCell(`import os\n\n${k.line}\nprint("done")\n`)]),
      expected: { pointer: '/cells/1/source', cell: 1, line: 3 },
    }),
  },
  {
    name: 'code source (list form)',
    build: (k) => ({
      notebook: notebookWith([intro, codeCell(lines(`import os\n\n${k.line}\nprint("done")`))]),
      expected: { pointer: '/cells/1/source/2', cell: 1, line: 3 },
    }),
  },
  {
    name: 'markdown source',
    build: (k) => ({
      notebook: notebookWith([
        intro,
        { cell_type: 'markdown', id: 'notes', metadata: {}, source: `Setup:\n${k.line}` },
      ]),
      expected: { pointer: '/cells/1/source', cell: 1, line: 2 },
    }),
  },
  {
    name: 'stream output',
    build: (k) => ({
      notebook: notebookWith([
        intro,
        codeCell('print(config)', [
          { output_type: 'stream', name: 'stdout', text: lines(`epoch 1 loss 0.31\n${k.line}\n`) },
        ]),
      ]),
      expected: { pointer: '/cells/1/outputs/0/text/1', cell: 1, line: 2 },
    }),
  },
  {
    name: 'execute_result text/plain',
    build: (k) => ({
      notebook: notebookWith([
        intro,
        codeCell('config', [
          {
            output_type: 'execute_result',
            execution_count: 1,
            metadata: {},
            data: { 'text/plain': `Config:\n${k.line}` },
          },
        ]),
      ]),
      expected: { pointer: '/cells/1/outputs/0/data/text~1plain', cell: 1, line: 2 },
    }),
  },
  {
    name: 'execute_result application/json',
    build: (k) => ({
      notebook: notebookWith([
        intro,
        codeCell('config', [
          {
            output_type: 'execute_result',
            execution_count: 1,
            metadata: {},
            data: { 'application/json': { config: { [k.key]: k.value } }, 'text/plain': '<Config>' },
          },
        ]),
      ]),
      expected: {
        pointer: `/cells/1/outputs/0/data/application~1json/config/${escapeToken(k.key)}`,
        cell: 1,
        line: 1,
      },
    }),
  },
  {
    name: 'error traceback with ANSI codes',
    build: (k) => ({
      notebook: notebookWith([
        intro,
        codeCell('connect()', [
          {
            output_type: 'error',
            ename: 'ConnectionError',
            evalue: 'connection refused',
            traceback: [
              '\u001b[0;31mConnectionError\u001b[0m                           Traceback (most recent call last)',
              `Cell \u001b[0;32mIn[3], line 2\u001b[0m\n\u001b[0;32m----> 2\u001b[0m ${coloured(k.line)}`,
              '\u001b[0;31mConnectionError\u001b[0m: connection refused',
            ],
          },
        ]),
      ]),
      expected: { pointer: '/cells/1/outputs/0/traceback/1', cell: 1, line: 2 },
    }),
  },
  {
    name: 'error evalue',
    build: (k) => ({
      notebook: notebookWith([
        intro,
        codeCell('connect()', [
          { output_type: 'error', ename: 'AuthError', evalue: `rejected: ${k.line}`, traceback: [] },
        ]),
      ]),
      expected: { pointer: '/cells/1/outputs/0/evalue', cell: 1, line: 1 },
    }),
  },
  {
    name: 'cell metadata',
    build: (k) => ({
      notebook: notebookWith([intro, { ...codeCell('train()'), metadata: { custom: { [k.key]: k.value } } }]),
      expected: { pointer: `/cells/1/metadata/custom/${escapeToken(k.key)}`, cell: 1, line: 1 },
    }),
  },
  {
    name: 'notebook metadata',
    build: (k) => ({
      notebook: notebookWith([intro], { project: { [k.key]: k.value } }),
      expected: { pointer: `/metadata/project/${escapeToken(k.key)}`, line: 1 },
    }),
  },
  {
    name: 'nbops manifest training environment',
    build: (k) => ({
      notebook: notebookWith([intro], {
        nbops: {
          name: 'churn',
          training: { instanceType: 'ml.g5.xlarge', environment: { [k.key]: k.value } },
        },
      }),
      expected: { pointer: `/metadata/nbops/training/environment/${escapeToken(k.key)}`, line: 1 },
    }),
  },
  {
    name: 'markdown attachment text/plain',
    build: (k) => ({
      notebook: notebookWith([
        intro,
        {
          cell_type: 'markdown',
          id: 'notes',
          metadata: {},
          source: 'See ![notes](attachment:notes.txt)',
          attachments: {
            'notes.txt': { 'text/plain': Buffer.from(`Deployment notes\n${k.line}\n`).toString('base64') },
          },
        },
      ]),
      expected: { pointer: '/cells/1/attachments/notes.txt/text~1plain', cell: 1, line: 2 },
    }),
  },
];
