/**
 * Reading a notebook file: size cap, UTF-8, JSON syntax, duplicate keys and nesting depth.
 *
 * Native JSON.parse builds the value. Before it, one linear scan over the bytes finds what
 * JSON.parse hides (it keeps the last of two equal keys silently) and guards the depth that the
 * rest of the validator recurses into. The scan compares keys as byte ranges and jumps through
 * long strings with indexOf, so it allocates nothing per key; only when it sees something
 * suspicious does a slower exact scan over the text find and locate the problem. Readable error
 * descriptions are likewise computed only on the error paths.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import type { Finding, RuleSpec } from './finding';
import { findSyntaxProblem, lineOf, lineText, type SyntaxProblem } from './structure/json-syntax';
import {
  cellOfPointer,
  type DuplicateKey,
  linesOfOffsets,
  pointersOfOffsets,
  quickScanIsClean,
  type ScanResult,
  scanKeysAndDepth,
} from './structure/json-text';

export { findSyntaxProblem } from './structure/json-syntax';
export { locatePointers, quickScanIsClean, type TextPosition } from './structure/json-text';

export type ParseOutcome =
  | { ok: true; value: unknown; text: string; findings: Finding[] }
  | { ok: false; findings: Finding[] };

export interface ParseOptions {
  /** Files larger than this (in bytes) are refused before decoding. */
  maxBytes: number;
  /** Deepest nesting of objects/arrays accepted; default 512. */
  maxDepth?: number;
}

export const DEFAULT_MAX_DEPTH = 512;

export const NB_001: RuleSpec = {
  id: 'NB-001',
  family: 'structure',
  defaultSeverity: 'error',
  title: 'The notebook is a JSON object with the nbformat 4 top level',
  rationale:
    'A notebook must parse as JSON and have exactly the keys metadata, nbformat_minor, nbformat and cells, ' +
    'with nbformat 4. Jupyter, papermill and nbops read nothing else; nbformat 3 files must be converted first.',
};

const NB_008: RuleSpec = {
  id: 'NB-008',
  family: 'structure',
  defaultSeverity: 'error',
  title: 'No object has the same key twice',
  rationale:
    'JSON readers (Python json, nbformat, JSON.parse) silently keep the last of two equal keys, so the ' +
    'notebook runs with a value the author may never have seen. A duplicate usually comes from a bad merge.',
};

const NB_009: RuleSpec = {
  id: 'NB-009',
  family: 'structure',
  defaultSeverity: 'error',
  title: 'The notebook is UTF-8 encoded',
  rationale:
    'nbformat defines notebooks as UTF-8 JSON. Other encodings (Latin-1, UTF-16) are misread or rejected ' +
    'by Jupyter and the training runtime.',
};

const NB_010: RuleSpec = {
  id: 'NB-010',
  family: 'structure',
  defaultSeverity: 'error',
  title: 'The notebook is within the size limit',
  rationale:
    'Large notebooks are almost always large because of stored outputs (images, data frames, logs). ' +
    'They slow validation, training start-up and reviews; nbops refuses them before reading them.',
};

const NB_011: RuleSpec = {
  id: 'NB-011',
  family: 'structure',
  defaultSeverity: 'error',
  title: 'JSON nesting stays within the depth limit',
  rationale:
    'No real notebook nests hundreds of levels deep; such input is generated or hostile and would exhaust ' +
    'the stack of recursive readers. It is refused before it is parsed.',
};

/** The rules parseNotebook can emit. */
export const parseRules: RuleSpec[] = [NB_001, NB_008, NB_009, NB_010, NB_011];

export function parseNotebook(input: Uint8Array | string, opts: ParseOptions): ParseOutcome {
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;

  const oversize = sizeOverLimit(input, opts.maxBytes);
  if (oversize !== undefined) return { ok: false, findings: [tooLarge(oversize, opts.maxBytes)] };

  let text: string;
  if (typeof input === 'string') {
    text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  } else {
    const decoded = decodeUtf8(input);
    if (decoded === undefined) return { ok: false, findings: [invalidUtf8(input)] };
    text = decoded;
  }

  // The byte scan settles the common case quickly; anything suspicious is decided (and located)
  // by the exact scan over the decoded text.
  const bytes = typeof input === 'string' ? new TextEncoder().encode(text) : input;
  const scanned: ScanResult = quickScanIsClean(bytes, maxDepth)
    ? { duplicates: [] }
    : scanKeysAndDepth(text, maxDepth);
  if (scanned.tooDeepAt !== undefined) {
    return { ok: false, findings: [tooDeep(text, scanned.tooDeepAt, maxDepth)] };
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, findings: [syntaxError(text, err)] };
  }

  const findings = scanned.duplicates.length > 0 ? duplicateKeyFindings(text, scanned.duplicates) : [];
  return { ok: true, value, text, findings };
}

// ---------------------------------------------------------------------------------------------
// Size and encoding

/** The input's size in bytes when it exceeds `limit`, else undefined. */
function sizeOverLimit(input: Uint8Array | string, limit: number): number | undefined {
  if (typeof input !== 'string') return input.byteLength > limit ? input.byteLength : undefined;
  // UTF-8 needs at most 3 bytes per UTF-16 unit: skip the exact count when it cannot matter.
  if (input.length * 3 <= limit) return undefined;
  const bytes = Buffer.byteLength(input, 'utf8');
  return bytes > limit ? bytes : undefined;
}

function formatSize(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  const [value, unit] = mb >= 1 ? [mb, 'MB'] : [bytes / 1024, 'KB'];
  return `${value.toFixed(1).replace(/\.0$/, '')} ${unit}`;
}

function tooLarge(size: number, limit: number): Finding {
  return {
    rule: 'NB-010',
    severity: 'error',
    message:
      `notebook is ${formatSize(size)} (${size.toLocaleString('en-US')} bytes); the limit is ` +
      `${formatSize(limit)} (${limit.toLocaleString('en-US')} bytes). It was not read.`,
    location: { pointer: '' },
    fix:
      'Strip stored outputs before uploading (`jupyter nbconvert --clear-output --inplace <notebook>.ipynb` ' +
      'or `nbstripout <notebook>.ipynb`), or ask the platform team to raise policy maxNotebookBytes.',
  };
}

/**
 * The text of UTF-8 bytes without a leading BOM, or undefined when they are not well-formed UTF-8.
 * Node's SIMD checks (isUtf8, isAscii) run at several GB/s; a pure-ASCII file (most notebooks:
 * Jupyter escapes nothing, but base64 images and code are ASCII) then decodes with the ASCII
 * fast path, about 8x faster than a fatal TextDecoder on a 10 MB notebook.
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  if (!isUtf8(bytes)) return undefined;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isAscii(buffer)) return buffer.toString('ascii');
  const hasBom = buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf;
  return buffer.toString('utf8', hasBom ? 3 : 0);
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // UTF-16 surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // overlong
      if (b === 0xf4) hi = 0x8f; // above U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      const min = k === 1 ? lo : 0x80;
      const max = k === 1 ? hi : 0xbf;
      if (c < min || c > max) return i;
    }
    i += need + 1;
  }
  return -1;
}

function invalidUtf8(bytes: Uint8Array): Finding {
  const fix =
    'Re-save the notebook as UTF-8 (Jupyter always writes UTF-8), e.g. ' +
    '`iconv -f WINDOWS-1252 -t UTF-8 in.ipynb > out.ipynb` for a file saved by a Windows editor.';
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return {
      rule: 'NB-009',
      severity: 'error',
      message:
        'notebook is UTF-16 encoded (it starts with a UTF-16 byte order mark); notebooks must be UTF-8.',
      location: { pointer: '', line: 1 },
      fix: 'Re-save the notebook as UTF-8, e.g. `iconv -f UTF-16 -t UTF-8 in.ipynb > out.ipynb`.',
    };
  }
  const offset = Math.max(0, firstInvalidUtf8(bytes));
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  const shown = Array.from(bytes.subarray(offset, offset + 4), (b) => `0x${b.toString(16).padStart(2, '0')}`);
  return {
    rule: 'NB-009',
    severity: 'error',
    message:
      `notebook is not valid UTF-8: the bytes at offset ${offset} (line ${line}) are not a UTF-8 character ` +
      `(${shown.join(' ')}); the file was probably saved in another encoding such as Latin-1.`,
    location: { pointer: '', line },
    fix,
  };
}

// ---------------------------------------------------------------------------------------------
// The linear scan: duplicate keys and depth

function duplicateKeyFindings(text: string, duplicates: DuplicateKey[]): Finding[] {
  const pointers = pointersOfOffsets(
    text,
    duplicates.map((d) => d.objectOffset),
  );
  const lines = linesOfOffsets(
    text,
    duplicates.flatMap((d) => [d.firstOffset, d.secondOffset]),
  );
  return duplicates.map((d) => {
    const pointer = pointers.get(d.objectOffset) ?? '';
    const first = lines.get(d.firstOffset)?.line ?? 0;
    const second = lines.get(d.secondOffset)?.line ?? 0;
    const where = pointer === '' ? 'the top-level object' : `the object at ${pointer}`;
    const location: Finding['location'] = { pointer };
    const cell = cellOfPointer(pointer);
    if (cell !== undefined) location.cell = cell;
    return {
      rule: 'NB-008',
      severity: 'error',
      message:
        `duplicate key ${JSON.stringify(d.key)} in ${where}: first on line ${first}, again on line ${second}. ` +
        'JSON readers silently keep only the last value.',
      location,
      fix: `Delete one of the two ${JSON.stringify(d.key)} entries (lines ${first} and ${second}), keeping the value you intend.`,
    };
  });
}

function tooDeep(text: string, offset: number, maxDepth: number): Finding {
  const pos = linesOfOffsets(text, [offset]).get(offset) ?? { line: 1, column: 1 };
  return {
    rule: 'NB-011',
    severity: 'error',
    message:
      `notebook nests JSON objects/arrays more than ${maxDepth} levels deep (level ${maxDepth + 1} starts at ` +
      `line ${pos.line}, column ${pos.column}); it was not parsed.`,
    location: { pointer: '', line: pos.line },
    fix:
      'Remove the deeply nested value (usually a generated output or metadata blob), e.g. clear outputs ' +
      'with `jupyter nbconvert --clear-output --inplace <notebook>.ipynb`.',
  };
}

// ---------------------------------------------------------------------------------------------
// JSON syntax errors (error path only)

function syntaxError(text: string, err: unknown): Finding {
  if (text.trim() === '') {
    return {
      rule: 'NB-001',
      severity: 'error',
      message: text === '' ? 'notebook file is empty.' : 'notebook file contains only whitespace.',
      location: { pointer: '', line: 1 },
      fix: 'Upload the saved notebook (.ipynb) again; the file nbops received has no content.',
    };
  }
  const conflict = /^(<{7}|={7}|>{7})( |$)/m.exec(text);
  if (conflict) {
    const line = lineOf(text, conflict.index);
    return {
      rule: 'NB-001',
      severity: 'error',
      message: `notebook is not valid JSON: it contains a git merge-conflict marker (${conflict[1]}) on line ${line}.`,
      location: { pointer: '', line },
      fix: 'Resolve the merge conflict (for notebooks, `nbdime mergetool` helps) and upload the result.',
      snippet: lineText(text, conflict.index),
    };
  }
  const problem = findSyntaxProblem(text) ?? fallbackProblem(text, err);
  const pos = linesOfOffsets(text, [problem.offset]).get(problem.offset) ?? { line: 1, column: 1 };
  const at = `line ${pos.line}, column ${pos.column}`;
  const finding: Finding = {
    rule: 'NB-001',
    severity: 'error',
    message: problem.truncated
      ? `notebook is not valid JSON: ${problem.message} (end of file: ${at}); the file looks truncated.`
      : `notebook is not valid JSON: ${problem.message} at ${at}.`,
    location: { pointer: '', line: pos.line },
    fix: problem.truncated
      ? 'Upload the complete notebook again: the copy nbops received ends early (an interrupted save or upload).'
      : `Fix the JSON at ${at}, or re-save the notebook from Jupyter.`,
  };
  const snippet = lineText(text, problem.offset);
  if (snippet.trim() !== '') finding.snippet = snippet;
  return finding;
}

function fallbackProblem(text: string, err: unknown): SyntaxProblem {
  // Only reached if findSyntaxProblem and JSON.parse disagree; keep V8's wording, not its stack.
  const message = err instanceof Error ? err.message : String(err);
  const position = /position (\d+)/.exec(message);
  return {
    offset: position ? Number(position[1]) : text.length,
    message: message.replace(/ in JSON.*$/, ''),
  };
}
