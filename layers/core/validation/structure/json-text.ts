/**
 * Scans over JSON text and bytes, for what JSON.parse does not give: duplicate object keys (it
 * keeps the last one silently), nesting depth, and where a JSON pointer's value sits in the text.
 * Hot loops live here together with the helpers they call: some loaders (tsx, vitest) turn calls
 * and constants imported from another module into property reads that cost more than the loop.
 */
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;

export interface DuplicateKey {
  /** Offset of the `{` of the object holding both keys. */
  objectOffset: number;
  key: string;
  firstOffset: number;
  secondOffset: number;
}

export interface ScanResult {
  /** Offset of the first `{` or `[` nested deeper than allowed. */
  tooDeepAt?: number;
  duplicates: DuplicateKey[];
}

/** Index of the quote closing the string whose opening quote is at `open`, or -1. */
function stringEnd(text: string, open: number): number {
  let end = text.indexOf('"', open + 1);
  while (end !== -1 && text.charCodeAt(end - 1) === BACKSLASH) {
    let k = end - 1;
    while (text.charCodeAt(k) === BACKSLASH) k--;
    if ((end - 1 - k) % 2 === 0) break; // an even run of backslashes escapes itself, not the quote
    end = text.indexOf('"', end + 1);
  }
  return end;
}

function decodeKey(raw: string): string {
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw; // malformed escape: JSON.parse of the whole text reports it
  }
}

/**
 * The exact scan, run only when the fast path saw something suspicious: walks the decoded text,
 * compares keys after unescaping (one key map per depth; objects at one depth never overlap, so
 * the map is cleared and reused) and records offsets for the report. Tolerates invalid JSON (it
 * stops, or finds meaningless duplicates that are dropped when JSON.parse then fails).
 */
export function scanKeysAndDepth(text: string, maxDepth: number): ScanResult {
  const duplicates: DuplicateKey[] = [];
  const inObject: boolean[] = [false];
  const keysAt: Map<string, number>[] = [];
  const objectStart: number[] = [];
  const n = text.length;
  let depth = 0;
  let expectKey = false;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end === -1) break;
      if (expectKey) {
        expectKey = false;
        const key = decodeKey(text.slice(i + 1, end));
        const keys = keysAt[depth];
        if (keys) {
          const first = keys.get(key);
          if (first === undefined) keys.set(key, i);
          else
            duplicates.push({ objectOffset: objectStart[depth]!, key, firstOffset: first, secondOffset: i });
        }
      }
      i = end + 1;
      continue;
    }
    if (c === LBRACE) {
      depth++;
      if (depth > maxDepth) return { tooDeepAt: i, duplicates };
      inObject[depth] = true;
      const keys = keysAt[depth];
      if (keys) keys.clear();
      else keysAt[depth] = new Map();
      objectStart[depth] = i;
      expectKey = true;
    } else if (c === LBRACKET) {
      depth++;
      if (depth > maxDepth) return { tooDeepAt: i, duplicates };
      inObject[depth] = false;
      expectKey = false;
    } else if (c === RBRACE || c === RBRACKET) {
      if (depth > 0) depth--;
      expectKey = false;
    } else if (c === COMMA) {
      expectKey = inObject[depth] === true;
    }
    i++;
  }
  return { duplicates };
}

function sameBytes(b: Uint8Array, x: number, y: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (b[x + k] !== b[y + k]) return false;
  return true;
}

/** FNV-1a over a byte range. */
function hashBytes(b: Uint8Array, start: number, length: number): number {
  let h = 0x811c9dc5 | 0;
  for (let k = start; k < start + length; k++) h = Math.imul(h ^ b[k]!, 16777619);
  return h;
}

function grow(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** Objects with more keys than this index them by hash instead of comparing with each. */
const LINEAR_KEYS = 24;

/** Deepest nesting the fast path tracks; deeper limits are checked by the exact scan. */
const QUICK_MAX_DEPTH = 65_536;

/**
 * A hash table of key-stack slots (0 = empty, else slot + 1) for an object with many keys: open
 * addressing, at least twice the key count, holding the object's keys `base`..`top`.
 */
function keyTable(
  b: Uint8Array,
  keyStart: Int32Array,
  keyLength: Int32Array,
  keyHash: Int32Array,
  base: number,
  top: number,
): Int32Array {
  let size = 64;
  while (size < (top - base + 1) * 2) size *= 2;
  const table = new Int32Array(size);
  const mask = size - 1;
  for (let m = base; m < top; m++) {
    const hash = hashBytes(b, keyStart[m]!, keyLength[m]!);
    keyHash[m] = hash;
    let slot = hash & mask;
    while (table[slot] !== 0) slot = (slot + 1) & mask;
    table[slot] = m + 1;
  }
  return table;
}

/** Records key slot `top` in the table; false if the object already has an equal key. */
function addToTable(
  b: Uint8Array,
  table: Int32Array,
  keyStart: Int32Array,
  keyLength: Int32Array,
  keyHash: Int32Array,
  hash: number,
  start: number,
  length: number,
  top: number,
): boolean {
  const mask = table.length - 1;
  let slot = hash & mask;
  for (let m = table[slot]!; m !== 0; m = table[slot]!) {
    const k = m - 1;
    if (keyHash[k] === hash && keyLength[k] === length && sameBytes(b, keyStart[k]!, start, length))
      return false;
    slot = (slot + 1) & mask;
  }
  table[slot] = top + 1;
  return true;
}

/**
 * The fast path, over UTF-8 bytes: true when nesting stays within `maxDepth` and no object repeats
 * a key. Keys of the open objects sit on a stack as byte ranges and a new key is compared with its
 * object's earlier keys (by length, then bytes; through a hash table in objects with many keys),
 * so nothing is allocated per key. False means "look closer": too deep, a duplicate, an escaped
 * key (its bytes are not canonical), or malformed JSON. Hot loop: state lives in locals.
 */
export function quickScanIsClean(b: Uint8Array, maxDepth: number): boolean {
  if (maxDepth > QUICK_MAX_DEPTH) return false;
  const n = b.length;
  // The key stack: start, length and (in indexed objects) hash of each key of the open objects.
  let keyStart: Int32Array = new Int32Array(1024);
  let keyLength: Int32Array = new Int32Array(1024);
  let keyHash: Int32Array = new Int32Array(1024);
  let top = 0;
  // Per depth: whether the container is an object, where its keys start on the key stack, and
  // (for objects with many keys) their hash table. `indexed` guards `tables`: reading a missing
  // array element is slow in V8.
  const inObject = new Uint8Array(maxDepth + 2);
  const objectBase = new Int32Array(maxDepth + 2);
  const indexed = new Uint8Array(maxDepth + 2);
  const tables: Int32Array[] = [];
  let depth = 0;
  let expectKey = false;
  let i = 0;
  while (i < n) {
    const c = b[i]!;
    if (c <= 32) {
      i++;
      continue;
    }
    if (c === QUOTE) {
      let j = i + 1;
      if (!expectKey) {
        // A value string: walk short ones byte by byte, jump through long ones with indexOf.
        const stop = j + 64 < n ? j + 64 : n;
        for (;;) {
          if (j >= stop) {
            if (j >= n) return false;
            j = valueStringEnd(b, j);
            if (j === -1) return false;
            break;
          }
          const k = b[j]!;
          if (k === QUOTE) break;
          j += k === BACKSLASH ? 2 : 1;
        }
        i = j + 1;
        continue;
      }
      expectKey = false;
      for (;;) {
        if (j >= n) return false;
        const k = b[j]!;
        if (k === QUOTE) break;
        if (k === BACKSLASH) return false;
        j++;
      }
      const start = i + 1;
      const length = j - start;
      const base = objectBase[depth]!;
      if (top === keyStart.length) {
        keyStart = grow(keyStart);
        keyLength = grow(keyLength);
        keyHash = grow(keyHash);
      }
      if (indexed[depth] === 0 && top - base < LINEAR_KEYS) {
        for (let m = base; m < top; m++) {
          if (keyLength[m] === length && sameBytes(b, keyStart[m]!, start, length)) return false;
        }
      } else {
        let table = tables[depth];
        if (indexed[depth] === 0 || table === undefined || (top - base) * 2 >= table.length) {
          table = keyTable(b, keyStart, keyLength, keyHash, base, top);
          tables[depth] = table;
          indexed[depth] = 1;
        }
        const hash = hashBytes(b, start, length);
        if (!addToTable(b, table, keyStart, keyLength, keyHash, hash, start, length, top)) return false;
        keyHash[top] = hash;
      }
      keyStart[top] = start;
      keyLength[top] = length;
      top++;
      i = j + 1;
      continue;
    }
    if (c === LBRACE || c === LBRACKET) {
      depth++;
      if (depth > maxDepth) return false;
      inObject[depth] = c === LBRACE ? 1 : 0;
      objectBase[depth] = top;
      indexed[depth] = 0;
      expectKey = c === LBRACE;
    } else if (c === RBRACE || c === RBRACKET) {
      if (depth === 0) return false;
      top = objectBase[depth]!;
      depth--;
      expectKey = false;
    } else if (c === COMMA) {
      expectKey = inObject[depth] === 1;
    }
    i++;
  }
  return depth === 0;
}

/** Index of the quote ending a string, searching from `from` (inside the string); -1 if none. */
function valueStringEnd(b: Uint8Array, from: number): number {
  let j = b.indexOf(QUOTE, from);
  while (j !== -1 && b[j - 1] === BACKSLASH) {
    let k = j - 1;
    while (b[k] === BACKSLASH) k--;
    if ((j - 1 - k) % 2 === 0) break;
    j = b.indexOf(QUOTE, j + 1);
  }
  return j;
}

// ---------------------------------------------------------------------------------------------
// Positions and pointers

export interface TextPosition {
  /** 1-based line. */
  line: number;
  /** 1-based column, in UTF-16 code units (SARIF's default column kind). */
  column: number;
}

/** 1-based line/column of each offset, in one pass over the text. */
export function linesOfOffsets(text: string, offsets: Iterable<number>): Map<number, TextPosition> {
  const sorted = [...new Set(offsets)].sort((a, b) => a - b);
  const out = new Map<number, TextPosition>();
  let line = 1;
  let lineStart = 0;
  let nl = text.indexOf('\n');
  for (const offset of sorted) {
    while (nl !== -1 && nl < offset) {
      line++;
      lineStart = nl + 1;
      nl = text.indexOf('\n', lineStart);
    }
    out.set(offset, { line, column: offset - lineStart + 1 });
  }
  return out;
}

export function cellOfPointer(pointer: string): number | undefined {
  const m = /^\/cells\/(0|[1-9][0-9]*)(\/|$)/.exec(pointer);
  return m ? Number(m[1]) : undefined;
}

function escapeToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** JSON pointers of the containers that start at the given offsets (error path: duplicate keys). */
export function pointersOfOffsets(text: string, offsets: number[]): Map<number, string> {
  const wanted = new Set(offsets);
  const out = new Map<number, string>();
  // One frame per open container: for objects the current key, for arrays the current index.
  const isObj: boolean[] = [];
  const token: string[] = [];
  const index: number[] = [];
  let expectKey = false;
  const n = text.length;
  let i = 0;
  while (i < n && out.size < wanted.size) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end === -1) break;
      if (expectKey) {
        expectKey = false;
        token[token.length - 1] = escapeToken(decodeKey(text.slice(i + 1, end)));
      }
      i = end + 1;
      continue;
    }
    if (c === LBRACE || c === LBRACKET) {
      if (wanted.has(i)) out.set(i, token.length === 0 ? '' : `/${token.join('/')}`);
      isObj.push(c === LBRACE);
      token.push(c === LBRACE ? '' : '0');
      index.push(0);
      expectKey = c === LBRACE;
    } else if (c === RBRACE || c === RBRACKET) {
      isObj.pop();
      token.pop();
      index.pop();
      expectKey = false;
    } else if (c === COMMA && isObj.length > 0) {
      const top = isObj.length - 1;
      if (isObj[top]) expectKey = true;
      else {
        index[top] = index[top]! + 1;
        token[top] = String(index[top]);
      }
    }
    i++;
  }
  return out;
}

interface TrieNode {
  children: Map<string, TrieNode>;
  targets: string[];
}

function parsePointer(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * A cursor over JSON text that keeps line and column as it goes. Valid JSON has line breaks only
 * between tokens (never raw inside strings), so they are counted where whitespace is walked and
 * string bodies can be jumped over with indexOf.
 */
class Cursor {
  i = 0;
  line = 1;
  lineStart = 0;
  readonly n: number;

  constructor(readonly text: string) {
    this.n = text.length;
  }

  position(): TextPosition {
    return { line: this.line, column: this.i - this.lineStart + 1 };
  }

  ws(): void {
    const { text, n } = this;
    let i = this.i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 10) {
        this.line++;
        this.lineStart = i + 1;
      } else if (c !== 32 && c !== 9 && c !== 13) break;
      i++;
    }
    this.i = i;
  }

  /** Reads the object key at the cursor (which must be at its quote) and the colon after it. */
  key(): string | undefined {
    const end = stringEnd(this.text, this.i);
    if (end === -1) return undefined;
    const key = decodeKey(this.text.slice(this.i + 1, end));
    this.i = end + 1;
    this.ws();
    this.i++; // ':'
    this.ws();
    return key;
  }

  /** Moves past the value at the cursor, whatever it is. */
  skipValue(): void {
    const { text, n } = this;
    let i = this.i;
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      this.i = end === -1 ? n : end + 1;
      return;
    }
    if (c !== LBRACE && c !== LBRACKET) {
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === COMMA || d === RBRACE || d === RBRACKET || d <= 32) break;
        i++;
      }
      this.i = i;
      return;
    }
    let depth = 0;
    let line = this.line;
    let lineStart = this.lineStart;
    while (i < n) {
      const d = text.charCodeAt(i);
      if (d === QUOTE) {
        const end = stringEnd(text, i);
        if (end === -1) {
          i = n;
          break;
        }
        i = end + 1;
        continue;
      }
      if (d === 10) {
        line++;
        lineStart = i + 1;
      } else if (d === LBRACE || d === LBRACKET) depth++;
      else if (d === RBRACE || d === RBRACKET) {
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      }
      i++;
    }
    this.i = i;
    this.line = line;
    this.lineStart = lineStart;
  }
}

/**
 * Resolves JSON pointers to the 1-based line/column where their value starts, in one pass over
 * the text that descends only into containers on the way to a wanted pointer and stops once all
 * are found. Pointers that do not exist in the document are omitted. Meant for text that
 * JSON.parse accepted.
 */
export function locatePointers(text: string, pointers: Iterable<string>): Map<string, TextPosition> {
  const root: TrieNode = { children: new Map(), targets: [] };
  let remaining = 0;
  for (const pointer of new Set(pointers)) {
    const tokens = parsePointer(pointer);
    if (!tokens) continue;
    let node = root;
    for (const t of tokens) {
      let next = node.children.get(t);
      if (!next) {
        next = { children: new Map(), targets: [] };
        node.children.set(t, next);
      }
      node = next;
    }
    node.targets.push(pointer);
    remaining++;
  }

  const found = new Map<string, TextPosition>();
  const cur = new Cursor(text);

  // Recursion depth is bounded by the longest wanted pointer, not by the document.
  const visit = (node: TrieNode): void => {
    if (node.targets.length > 0) {
      const at = cur.position();
      for (const target of node.targets) found.set(target, at);
      remaining -= node.targets.length;
    }
    const open = text.charCodeAt(cur.i);
    if (node.children.size === 0 || (open !== LBRACE && open !== LBRACKET)) {
      cur.skipValue();
      return;
    }
    const isObject = open === LBRACE;
    cur.i++;
    cur.ws();
    let index = 0;
    while (cur.i < cur.n && remaining > 0) {
      const c = text.charCodeAt(cur.i);
      if (c === RBRACE || c === RBRACKET) break;
      const key = isObject ? cur.key() : String(index++);
      if (key === undefined) break;
      const child = node.children.get(key);
      if (child) visit(child);
      else cur.skipValue();
      cur.ws();
      if (text.charCodeAt(cur.i) !== COMMA) break;
      cur.i++;
      cur.ws();
    }
    cur.i++; // the closing bracket
  };

  if (remaining > 0) {
    cur.ws();
    visit(root);
  }
  return found;
}
