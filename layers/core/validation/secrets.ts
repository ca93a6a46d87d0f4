/**
 * The secrets family (SEC-*): walks the notebook itself (untrusted JSON of any shape) and scans
 * every place a secret can hide: cell sources, text outputs, error tracebacks (ANSI codes
 * stripped), cell, output and notebook metadata (the nbops manifest included), text-like
 * attachments, and a sidecar manifest. Binary payloads (PNG, JPEG, …) are skipped: their base64
 * is random by nature. Findings never carry a secret: messages quote the redacted form and
 * snippets are the offending line with every secret on it redacted.
 *
 * Speed: cell sources and text outputs are joined (fields separated by a newline) into chunks of
 * several cells and each chunk is scanned as one text, so a notebook with 50,000 outputs costs a
 * few hundred scans, not 150,000; each match is mapped back to its field, list element and line.
 * Context rules (an AWS secret key "in the same text as a key id") therefore see the chunk.
 */
import { createHash } from 'node:crypto';
import { isRecord, pointerToken } from '#core/notebook/notebook';
import type { Policy } from '#core/policy/policy.generated';
import type { CheckContext, RuleFamilyModule } from './family';
import type { Location, RuleSpec } from './finding';
import { isCredentialHint } from './secrets/detectors';
import { redactedLine } from './secrets/redact';
import { secretRuleById, secretRules } from './secrets/rules';
import { type SecretMatch, scanWithHint } from './secrets/scan';

export { redactSecrets } from './secrets/redact';
export { secretRules } from './secrets/rules';
export { type SecretMatch, scanText } from './secrets/scan';

const credentialKeys = new Map<string, boolean>();

/** Whether a JSON key names a credential (cached: the same keys repeat across outputs). */
function credentialKey(key: string): boolean {
  let known = credentialKeys.get(key);
  if (known === undefined) {
    known = isCredentialHint(key);
    if (credentialKeys.size < 10_000) credentialKeys.set(key, known);
  }
  return known;
}

/** Deeper JSON than this is not walked (nbformat metadata is shallow; this bounds hostile input). */
const MAX_DEPTH = 64;
/** Cell texts are joined into chunks of about this many characters before scanning. */
const CHUNK_CHARS = 64 * 1024;
/** Attachments above this size are not decoded (text attachments are small; this bounds memory). */
const MAX_ATTACHMENT_BASE64 = 8 * 1024 * 1024;

/** Removes ANSI escape sequences (CSI colour codes, OSC titles/links, two-byte escapes). */
export function stripAnsi(s: string): string {
  let esc = s.indexOf('\x1b');
  if (esc < 0) return s;
  let out = '';
  let at = 0;
  while (esc >= 0) {
    out += s.slice(at, esc);
    let i = esc + 1;
    const kind = s.charCodeAt(i);
    if (kind === 0x5b) {
      // CSI: parameters and intermediates, then one final byte in @..~
      i++;
      while (i < s.length && (s.charCodeAt(i) < 0x40 || s.charCodeAt(i) > 0x7e)) i++;
      i++;
    } else if (kind === 0x5d) {
      // OSC: up to BEL or ESC \
      i++;
      while (i < s.length && s.charCodeAt(i) !== 0x07 && s.charCodeAt(i) !== 0x1b) i++;
      i += s.charCodeAt(i) === 0x1b ? 2 : 1;
    } else if (i < s.length) {
      i++;
    }
    at = Math.min(i, s.length);
    esc = s.indexOf('\x1b', at);
  }
  return out + s.slice(at);
}

/** Text-like MIME types: scanned. Everything else (images, binaries) is skipped. */
function isTextMime(mime: string): boolean {
  return (
    mime.startsWith('text/') ||
    /^application\/(?:.*\+)?(?:json|xml)$/.test(mime) ||
    mime === 'image/svg+xml' ||
    mime === 'application/javascript' ||
    mime === 'application/x-yaml'
  );
}

interface MimeInfo {
  /** `json`: raw JSON (`application/json`, `application/*+json`); `text`: scanned as text; `binary`: skipped. */
  kind: 'json' | 'text' | 'binary';
  /** The MIME type as a JSON pointer token. */
  token: string;
}

const mimeInfos = new Map<string, MimeInfo>();

/** Cached: a notebook uses a handful of MIME types across thousands of outputs. */
function mimeInfo(mime: string): MimeInfo {
  let info = mimeInfos.get(mime);
  if (info === undefined) {
    const kind = /^application\/(?:.*\+)?json$/.test(mime) ? 'json' : isTextMime(mime) ? 'text' : 'binary';
    info = { kind, token: pointerToken(mime) };
    if (mimeInfos.size < 1000) mimeInfos.set(mime, info);
  }
  return info;
}

type PlaceKind = 'source' | 'output' | 'metadata' | 'manifest' | 'attachment' | 'sidecar';

/** Where a scanned text lives, described in words only when something is found there. */
interface Place {
  kind: PlaceKind;
  cell?: number;
  output?: number;
  /** Detail: `stdout stream`, `traceback`, `text/plain`, an attachment name, a JSON key path. */
  what?: string;
  file?: string;
}

function describe(place: Place): string {
  const detail = place.what ? ` (${place.what})` : '';
  switch (place.kind) {
    case 'source':
      return `cell ${place.cell} source`;
    case 'output':
      return `cell ${place.cell} output ${place.output}${detail}`;
    case 'attachment':
      return `cell ${place.cell} attachment${detail}`;
    case 'manifest':
      return `the nbops manifest${detail}`;
    case 'sidecar':
      return `the sidecar manifest${place.file ? ` ${place.file}` : ''}${detail}`;
    default:
      return `${place.cell === undefined ? 'notebook' : `cell ${place.cell}`} metadata${detail}`;
  }
}

/** A step of a JSON walk: the key under the parent (walks keep a chain, not a copied path). */
interface JsonNode {
  key: string;
  parent: JsonNode | undefined;
}

/** One walk over a JSON value: where it is rooted and how its strings are described. */
interface JsonWalk {
  rootPointer: string;
  place: Place;
  lineOf?: (pointer: string) => number | undefined;
}

function keysOf(node: JsonNode): string[] {
  const keys: string[] = [];
  for (let n: JsonNode | undefined = node; n?.parent !== undefined; n = n.parent) keys.push(n.key);
  return keys.reverse();
}

/** The place of a string inside a JSON value; strings under metadata.nbops belong to the manifest. */
function placeAt(place: Place, path: string[]): Place {
  if (place.kind === 'metadata' && place.cell === undefined && path[0] === 'nbops') {
    return { kind: 'manifest', what: path.slice(1).join('.') };
  }
  const dotted = path.join('.');
  return { ...place, what: place.what && dotted ? `${place.what} ${dotted}` : place.what || dotted };
}

/** Which field of a cell a piece of joined text comes from. */
interface CellField {
  kind: 'cell';
  cell: number;
  /** Output index, or -1 for the cell source. */
  output: number;
  /** `source`, `text`, `data`, `ename`, `evalue` or `traceback`. */
  name: string;
  /** For `data`: the MIME type; for `text`: the stream name. */
  detail: string;
}

/** Where a field lives: a cell field, a string in a JSON value, or a text with a known pointer. */
type Origin =
  | CellField
  | { kind: 'json'; node: JsonNode; walk: JsonWalk }
  | { kind: 'fixed'; pointer: string; place: Place; fileLine?: number };

const ERROR_FIELD: Record<string, string> = {
  ename: 'error name',
  evalue: 'error value',
  traceback: 'traceback',
};

/** Pointer, place and (for sidecars) file line of a field: worked out only once something is found there. */
function describeOrigin(origin: Origin): { pointer: string; place: Place; fileLine?: number } {
  switch (origin.kind) {
    case 'cell': {
      const f = origin;
      if (f.output < 0)
        return { pointer: `/cells/${f.cell}/source`, place: { kind: 'source', cell: f.cell } };
      const data = f.name === 'data' ? `/${mimeInfo(f.detail).token}` : '';
      const what =
        f.name === 'text' ? `${f.detail} stream` : f.name === 'data' ? f.detail : ERROR_FIELD[f.name];
      return {
        pointer: `/cells/${f.cell}/outputs/${f.output}/${f.name}${data}`,
        place: { kind: 'output', cell: f.cell, output: f.output, what },
      };
    }
    case 'json': {
      const keys = keysOf(origin.node);
      const pointer = origin.walk.rootPointer + keys.map((k) => `/${pointerToken(k)}`).join('');
      const described: { pointer: string; place: Place; fileLine?: number } = {
        pointer,
        place: placeAt(origin.walk.place, keys),
      };
      const fileLine = origin.walk.lineOf?.(pointer);
      if (fileLine !== undefined) described.fileLine = fileLine;
      return described;
    }
    default:
      return origin;
  }
}

/** One field inside a joined text (a source, a stream text, a traceback, a JSON string, …). */
interface FieldSpan {
  start: number;
  end: number;
  origin: Origin;
}

/** A piece of a field: the field itself, or one element of a list field. */
interface Segment {
  start: number;
  /** List element index (the pointer names the element), or -1. */
  element: number;
  /** Where line counting starts: the field for multiline fields, the element for tracebacks. */
  lineFrom: number;
  field: FieldSpan;
}

/**
 * Cells' text fields joined into one text (fields separated by a newline). Untracked, it only
 * builds the text, which is all a chunk without secrets needs; tracked, it also records where
 * each piece came from so matches map back to pointers and lines.
 */
class JoinedText {
  text = '';
  readonly segments: Segment[] = [];
  private fieldStart = 0;
  private field: FieldSpan | undefined;

  constructor(private readonly track: boolean) {}

  get length(): number {
    return this.text.length;
  }

  beginField(cell: number, output: number, name: string, detail: string): void {
    if (this.text.length > 0) this.text += '\n';
    this.fieldStart = this.text.length;
    if (this.track) {
      const origin: CellField = { kind: 'cell', cell, output, name, detail };
      this.field = { start: this.text.length, end: this.text.length, origin };
    }
  }

  /** Starts a field whose origin the caller gives (built only for tracked texts). */
  beginOrigin(origin: (() => Origin) | undefined): void {
    if (this.text.length > 0) this.text += '\n';
    this.fieldStart = this.text.length;
    if (this.track && origin)
      this.field = { start: this.text.length, end: this.text.length, origin: origin() };
  }

  get tracking(): boolean {
    return this.track;
  }

  /** Appends a piece to the current field; `separate` puts a newline before it (independent strings). */
  piece(value: string, element: number, separate: boolean): void {
    if (separate && this.text.length > this.fieldStart) this.text += '\n';
    const start = this.text.length;
    this.text += value;
    const field = this.field;
    if (field) {
      this.segments.push({ start, element, lineFrom: separate ? start : field.start, field });
      field.end = this.text.length;
    }
  }

  segmentAt(offset: number): Segment | undefined {
    const segments = this.segments;
    let lo = 0;
    let hi = segments.length - 1;
    if (hi < 0) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segments[mid]!.start <= offset) lo = mid;
      else hi = mid - 1;
    }
    return segments[lo];
  }
}

interface AllowEntry {
  pattern?: RegExp;
  sha256?: string;
}

function compileAllowlist(policy: Policy): AllowEntry[] {
  const entries = policy.secrets?.allowlist;
  if (!Array.isArray(entries)) return [];
  const out: AllowEntry[] = [];
  for (const entry of entries) {
    if (!isRecord(entry)) continue;
    const compiled: AllowEntry = {};
    if (typeof entry.pattern === 'string') {
      try {
        compiled.pattern = new RegExp(entry.pattern);
      } catch {
        // An invalid pattern is the policy validator's to report; here it allows nothing.
      }
    }
    if (typeof entry.sha256 === 'string') compiled.sha256 = entry.sha256.toLowerCase();
    if (compiled.pattern || compiled.sha256) out.push(compiled);
  }
  return out;
}

const sha256Hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

const ROTATE: Record<string, string> = {
  'SEC-001':
    'Deactivate and delete the access key in IAM; training jobs get AWS credentials from their IAM role.',
  'SEC-002':
    'Deactivate and delete the access key in IAM; training jobs get AWS credentials from their IAM role.',
  'SEC-003': 'Replace the key pair and remove the old public key wherever it is authorised.',
  'SEC-004': 'Revoke the token in GitHub (Settings > Developer settings > tokens) and create a new one.',
  'SEC-005': 'Revoke the token, or regenerate the webhook URL, in the Slack app settings.',
  'SEC-006': 'Revoke the token at its issuer (or let it expire) if it is still valid.',
  'SEC-007': 'If it is a credential, rotate it.',
  'SEC-008': 'If it is a credential, rotate it.',
  'SEC-009': 'Change the password and keep the connection string in AWS Secrets Manager.',
  'SEC-010': 'Delete or restrict the key in the Google Cloud console (APIs & Services > Credentials).',
  'SEC-011': 'Roll the key in the Stripe dashboard (Developers > API keys).',
  'SEC-012': 'Invalidate the token in Hugging Face (Settings > Access Tokens) and create a new one.',
  'SEC-013': "Revoke the key in the provider's console (OpenAI or Anthropic) and create a new one.",
};

function removeInstruction(place: Place, where: string): string {
  switch (place.kind) {
    case 'source':
      return `Remove the secret from ${where} and read it at run time instead (os.environ, or AWS Secrets Manager).`;
    case 'output':
      return `Clear the outputs of cell ${place.cell} (Clear All Outputs, \`jupyter nbconvert --clear-output\` or nbstripout) before uploading.`;
    case 'attachment':
      return `Remove the attachment from cell ${place.cell}.`;
    case 'manifest':
    case 'sidecar':
      return 'Remove the secret from the nbops manifest; give the training job access through its IAM role or AWS Secrets Manager.';
    default:
      return `Remove the secret from ${where}.`;
  }
}

function allowInstruction(place: Place, secret: string): string {
  const comment = place.kind === 'source' ? 'add a `nbops:allow-secret` comment on that line, or ' : '';
  return `If it is not a secret, ${comment}allowlist it in the platform policy (secrets.allowlist, sha256 ${sha256Hex(secret)}).`;
}

/** A clipped match keeps its kind prefix and states its new length. */
function clip(match: SecretMatch, end: number): SecretMatch {
  const redacted = match.redacted.replace(/\(\d+ chars\)$/, `(${end - match.start} chars)`);
  return { ...match, end, redacted };
}

class SecretScanner {
  private readonly allowlist: AllowEntry[];
  /** Strings of JSON values (metadata, application/json data) waiting to be scanned together. */
  private jsonChunk = new JoinedText(false);
  private jsonWalks: { root: unknown; walk: JsonWalk }[] = [];
  private readonly lines: LineIndex = { text: undefined, offsets: [] };

  constructor(private readonly ctx: CheckContext) {
    this.allowlist = compileAllowlist(ctx.policy);
  }

  run(): void {
    const notebook = this.ctx.notebook;
    if (!isRecord(notebook)) return;
    const cells = Array.isArray(notebook.cells) ? notebook.cells : [];
    // Cells' texts are scanned in chunks of several cells: one scan per cell would cost more
    // than the scanning itself in a notebook of many small cells.
    let chunk = new JoinedText(false);
    let chunkCells: number[] = [];
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i];
      if (!isRecord(cell)) continue;
      this.collect(chunk, cell, i, true);
      chunkCells.push(i);
      if (isRecord(cell.attachments)) this.attachments(cell.attachments, `/cells/${i}/attachments`, i);
      if (cell.metadata !== undefined)
        this.json(cell.metadata, `/cells/${i}/metadata`, { kind: 'metadata', cell: i });
      if (chunk.length >= CHUNK_CHARS) {
        this.scanChunk(chunk, cells, chunkCells);
        chunk = new JoinedText(false);
        chunkCells = [];
      }
    }
    this.scanChunk(chunk, cells, chunkCells);
    if (notebook.metadata !== undefined) this.json(notebook.metadata, '/metadata', { kind: 'metadata' });
    const manifest = this.ctx.manifest;
    if (manifest?.origin === 'sidecar') {
      const place: Place = { kind: 'sidecar' };
      if (manifest.file) place.file = manifest.file;
      this.json(manifest.raw, manifest.pointer, place, manifest.lineOf);
    }
    this.flushJson();
  }

  /**
   * Most chunks hold no secret: they are joined and scanned without bookkeeping, and only on a
   * hit joined again recording where each piece came from (the text is the same both times).
   */
  private scanChunk(chunk: JoinedText, cells: unknown[], chunkCells: number[]): void {
    if (chunk.length === 0) return;
    const matches = scanWithHint(chunk.text);
    if (matches.length === 0) return;
    const tracked = new JoinedText(true);
    for (const i of chunkCells) this.collect(tracked, cells[i] as Record<string, unknown>, i, false);
    this.reportJoined(tracked, matches);
  }

  /**
   * Appends the cell's source and text outputs to `joined`; with `walkJson` (the first pass), also
   * hands the JSON values on the way (application/json data, output metadata) to the JSON walk.
   */
  private collect(joined: JoinedText, cell: Record<string, unknown>, i: number, walkJson: boolean): void {
    this.multiline(joined, cell.source, i, -1, 'source', '', false);
    if (!Array.isArray(cell.outputs)) return;
    for (let j = 0; j < cell.outputs.length; j++) {
      const output: unknown = cell.outputs[j];
      if (!isRecord(output)) continue;
      switch (output.output_type) {
        case 'stream': {
          const name = typeof output.name === 'string' ? output.name : 'stream';
          this.multiline(joined, output.text, i, j, 'text', name, true);
          break;
        }
        case 'display_data':
        case 'execute_result':
          if (!isRecord(output.data)) break;
          for (const mime of Object.keys(output.data)) {
            const value = output.data[mime];
            const { kind, token } = mimeInfo(mime);
            // Raw JSON (any value but a plain string) is walked; a string is read as text.
            if (kind === 'json' && typeof value !== 'string') {
              if (walkJson) {
                const pointer = `/cells/${i}/outputs/${j}/data/${token}`;
                this.json(value, pointer, { kind: 'output', cell: i, output: j, what: mime });
              }
            } else if (kind !== 'binary') {
              this.multiline(joined, value, i, j, 'data', mime, true);
            }
          }
          break;
        case 'error':
          if (typeof output.ename === 'string') {
            joined.beginField(i, j, 'ename', '');
            joined.piece(stripAnsi(output.ename), -1, false);
          }
          if (typeof output.evalue === 'string') {
            joined.beginField(i, j, 'evalue', '');
            joined.piece(stripAnsi(output.evalue), -1, false);
          }
          if (Array.isArray(output.traceback)) {
            joined.beginField(i, j, 'traceback', '');
            for (let k = 0; k < output.traceback.length; k++) {
              const entry: unknown = output.traceback[k];
              joined.piece(typeof entry === 'string' ? stripAnsi(entry) : '', k, true);
            }
          }
          break;
      }
      if (walkJson && isRecord(output.metadata) && Object.keys(output.metadata).length > 0) {
        this.json(output.metadata, `/cells/${i}/outputs/${j}/metadata`, {
          kind: 'output',
          cell: i,
          output: j,
          what: 'metadata',
        });
      }
    }
  }

  /** An nbformat multiline field: a string, or a list of strings (lines) read as one text. */
  private multiline(
    joined: JoinedText,
    value: unknown,
    cell: number,
    output: number,
    name: string,
    detail: string,
    ansi: boolean,
  ): void {
    if (typeof value === 'string') {
      joined.beginField(cell, output, name, detail);
      joined.piece(ansi ? stripAnsi(value) : value, -1, false);
    } else if (Array.isArray(value)) {
      joined.beginField(cell, output, name, detail);
      for (let k = 0; k < value.length; k++) {
        const element: unknown = value[k];
        const text = typeof element === 'string' ? element : '';
        joined.piece(ansi ? stripAnsi(text) : text, k, false);
      }
    }
  }

  private attachments(attachments: Record<string, unknown>, pointer: string, i: number): void {
    for (const [name, bundle] of Object.entries(attachments)) {
      if (!isRecord(bundle)) continue;
      for (const [mime, data] of Object.entries(bundle)) {
        if (mimeInfo(mime).kind === 'binary') continue; // binary payloads: base64 noise, never scanned
        const base64 = typeof data === 'string' ? data : Array.isArray(data) ? data.join('') : undefined;
        if (typeof base64 !== 'string' || base64.length > MAX_ATTACHMENT_BASE64) continue;
        const text = decodeText(base64);
        if (text === undefined) continue;
        const place: Place = { kind: 'attachment', cell: i, what: `"${name}", ${mime}` };
        this.scanSingle(text, `${pointer}/${pointerToken(name)}/${pointerToken(mime)}`, place);
      }
    }
  }

  /**
   * Every string at any depth of a JSON value. Strings under a credential-like key (`api_key`,
   * `environment.HF_TOKEN`) are scanned alone with that key as context; the rest join the shared
   * JSON chunk, scanned like cell texts (and walked again, recording origins, only on a hit).
   */
  private json(
    root: unknown,
    rootPointer: string,
    place: Place,
    lineOf?: (pointer: string) => number | undefined,
  ) {
    const walk: JsonWalk = { rootPointer, place };
    if (lineOf) walk.lineOf = lineOf;
    this.walkJson(root, walk, this.jsonChunk);
    this.jsonWalks.push({ root, walk });
    if (this.jsonChunk.length >= CHUNK_CHARS) this.flushJson();
  }

  /** Iterative and depth-capped: hostile nesting neither overflows the stack nor takes long. */
  private walkJson(root: unknown, walk: JsonWalk, joined: JoinedText): void {
    const stack: { value: unknown; node: JsonNode; depth: number }[] = [
      { value: root, node: { key: '', parent: undefined }, depth: 0 },
    ];
    while (stack.length > 0) {
      const { value, node, depth } = stack.pop()!;
      if (typeof value === 'string') {
        this.jsonString(value, node, walk, joined);
        continue;
      }
      if (depth >= MAX_DEPTH || typeof value !== 'object' || value === null) continue;
      if (Array.isArray(value)) {
        for (let k = value.length - 1; k >= 0; k--) {
          const child: unknown = value[k];
          if (typeof child === 'string' || (typeof child === 'object' && child !== null)) {
            stack.push({ value: child, node: { key: String(k), parent: node }, depth: depth + 1 });
          }
        }
      } else {
        const record = value as Record<string, unknown>;
        const keys = Object.keys(record);
        for (let k = keys.length - 1; k >= 0; k--) {
          const key = keys[k]!;
          const child = record[key];
          if (typeof child === 'string' || (typeof child === 'object' && child !== null)) {
            stack.push({ value: child, node: { key, parent: node }, depth: depth + 1 });
          }
        }
      }
    }
  }

  private jsonString(value: string, node: JsonNode, walk: JsonWalk, joined: JoinedText): void {
    if (value.length === 0) return;
    const parent = node.parent?.parent === undefined ? undefined : node.parent.key;
    if (credentialKey(node.key) || (parent !== undefined && credentialKey(parent))) {
      // Scanned alone, once: the walk that records origins skips it.
      if (joined.tracking) return;
      const hint = parent === undefined ? node.key : `${parent}.${node.key}`;
      const matches = scanWithHint(value, hint);
      if (matches.length > 0) this.reportAlone(value, matches, { kind: 'json', node, walk });
      return;
    }
    joined.beginOrigin(joined.tracking ? () => ({ kind: 'json', node, walk }) : undefined);
    joined.piece(value, -1, false);
  }

  /** Scans the JSON strings gathered so far; on a hit walks their values again to locate matches. */
  private flushJson(): void {
    const chunk = this.jsonChunk;
    const walks = this.jsonWalks;
    this.jsonChunk = new JoinedText(false);
    this.jsonWalks = [];
    if (chunk.length === 0) return;
    const matches = scanWithHint(chunk.text);
    if (matches.length === 0) return;
    const tracked = new JoinedText(true);
    for (const { root, walk } of walks) this.walkJson(root, walk, tracked);
    this.reportJoined(tracked, matches);
  }

  private scanSingle(text: string, pointer: string, place: Place): void {
    const matches = scanWithHint(text);
    if (matches.length > 0) this.reportAlone(text, matches, { kind: 'fixed', pointer, place });
  }

  private reportAlone(text: string, matches: SecretMatch[], origin: Origin): void {
    const segment: Segment = {
      start: 0,
      element: -1,
      lineFrom: 0,
      field: { start: 0, end: text.length, origin },
    };
    for (const match of matches) this.report(text, matches, match, segment);
  }

  private reportJoined(joined: JoinedText, matches: SecretMatch[]): void {
    for (const match of matches) {
      const segment = joined.segmentAt(match.start);
      if (!segment) continue;
      let own = match;
      if (match.end > segment.field.end) {
        // Only a private key without an END marker can run on past its field: cut it there.
        if (match.rule !== 'SEC-003') continue;
        own = clip(match, segment.field.end);
      }
      this.report(joined.text, matches, own, segment);
    }
  }

  private allowed(secret: string): boolean {
    if (this.allowlist.length === 0) return false;
    let digest: string | undefined;
    for (const entry of this.allowlist) {
      if (entry.pattern?.test(secret)) return true;
      if (entry.sha256 !== undefined) {
        digest ??= sha256Hex(secret);
        if (digest === entry.sha256) return true;
      }
    }
    return false;
  }

  private report(text: string, matches: SecretMatch[], match: SecretMatch, segment: Segment): void {
    const secret = text.slice(match.start, match.end);
    if (this.allowed(secret)) return;
    const { pointer, place, fileLine } = describeOrigin(segment.field.origin);
    const spec = secretRuleById.get(match.rule) as RuleSpec;
    const location: Location = { pointer: segment.element >= 0 ? `${pointer}/${segment.element}` : pointer };
    if (place.cell !== undefined) location.cell = place.cell;
    if (fileLine !== undefined) {
      location.line = fileLine;
    } else if (place.kind !== 'sidecar') {
      location.line = 1 + newlinesBetween(this.lines, text, segment.lineFrom, match.start);
    }
    if (place.file !== undefined) location.file = place.file;
    const where = describe(place);
    const fix = [removeInstruction(place, where), ROTATE[match.rule] ?? ''];
    if (spec.defaultSeverity !== 'error') fix.push(allowInstruction(place, secret));
    this.ctx.report({
      rule: match.rule,
      message: `${spec.title} ${match.redacted} in ${where}${location.line === undefined ? '' : `, line ${location.line}`}.`,
      location,
      fix: fix.filter((s) => s.length > 0).join(' '),
      snippet: redactedLine(text, matches, match),
    });
  }
}

/** Newline offsets of the last text asked about: findings come in batches from one text. */
interface LineIndex {
  text: string | undefined;
  offsets: number[];
}

/** How many newlines lie in `text` between `from` (inclusive) and `to` (exclusive). */
function newlinesBetween(index: LineIndex, text: string, from: number, to: number): number {
  if (to - from < 4096) {
    let count = 0;
    for (let k = from; k < to; k++) if (text.charCodeAt(k) === 10) count++;
    return count;
  }
  if (index.text !== text) {
    index.text = text;
    index.offsets = [];
    for (let k = text.indexOf('\n'); k >= 0; k = text.indexOf('\n', k + 1)) index.offsets.push(k);
  }
  return countBelow(index.offsets, to) - countBelow(index.offsets, from);
}

/** How many of the sorted `offsets` are below `limit`. */
function countBelow(offsets: number[], limit: number): number {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid]! < limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** base64 of UTF-8 text, or undefined when it does not decode to text. */
function decodeText(base64: string): string | undefined {
  const compact = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact)) return undefined;
  const text = Buffer.from(compact, 'base64').toString('utf8');
  return text.includes('\uFFFD') || text.includes('\u0000') ? undefined : text;
}

export const secretsFamily: RuleFamilyModule = {
  family: 'secrets',
  rules: secretRules,
  check(ctx: CheckContext): void {
    new SecretScanner(ctx).run();
  },
};
