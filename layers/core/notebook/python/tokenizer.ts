/**
 * A Python tokenizer for checking notebook cells without a Python interpreter.
 *
 * It follows CPython's tokenizer closely enough to place errors where Python does (line and 1-based
 * column), and is deliberately permissive where Python versions differ: f-strings are read with the
 * Python 3.12 rules (PEP 701: nested quotes, comments and newlines inside replacement fields), so
 * code valid on any supported Python (3.9+) is never rejected.
 *
 * With `ipython: true` it also understands the IPython syntax that starts a logical line (`!cmd`,
 * `%magic`, `?obj`, `/f x`, `,f a`, `;f a`), `name = !cmd` / `name = %magic`, and `obj?` help at the
 * end of a line; each becomes one `magic` token, exactly where IPython's input transformer would
 * rewrite it into a call.
 */

export type TokenType = 'name' | 'number' | 'string' | 'op' | 'magic';

export interface PyToken {
  type: TokenType;
  text: string;
  /** 1-based line of the first character. */
  line: number;
  /** 1-based column of the first character (UTF-16 units). */
  col: number;
  /** Bracket nesting depth before this token. */
  depth: number;
}

/** One logical line: tokens[start, end) (no NEWLINE tokens are stored). */
export interface LogicalLine {
  start: number;
  end: number;
  line: number;
  /** Indentation with tabs to multiples of 8 (CPython's `col`). */
  indent: number;
  /** Indentation with tabs counted as 1 (CPython's `altcol`), to detect inconsistent tabs. */
  altIndent: number;
  /** False when the tokenizer stopped (error) before the line ended. */
  complete: boolean;
  /** The line is an IPython escape (`!cmd`, `%magic`, `obj?`): one magic token. */
  magic: boolean;
}

export type ProblemKind =
  | 'string'
  | 'fstring'
  | 'bracket'
  | 'indent'
  | 'tab'
  | 'colon'
  | 'block'
  | 'clause'
  | 'python2'
  | 'character'
  | 'continuation'
  | 'number'
  | 'syntax';

export interface PySyntaxProblem {
  line: number;
  col: number;
  message: string;
  kind: ProblemKind;
}

export interface TokenizeResult {
  tokens: PyToken[];
  lines: LogicalLine[];
  error?: PySyntaxProblem;
}

export interface TokenizeOptions {
  ipython?: boolean;
}

const STRING_PREFIXES = new Set(['r', 'u', 'b', 'br', 'rb', 'f', 'fr', 'rf', 't', 'tr', 'rt']);

const CLOSERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/** Number literal, greedy like CPython: hex/octal/binary, decimal, float, exponent, imaginary. */
const NUMBER_RE =
  /0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?[jJ]?/y;
const LEADING_ZERO_RE = /^0[0-9_]*[1-9][0-9_]*$/;

const ID_START_RE = /[\p{ID_Start}]/u;
const ID_CONTINUE_RE = /[\p{ID_Continue}]/u;

const isAsciiIdStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isAsciiIdContinue = (c: number) => isAsciiIdStart(c) || (c >= 48 && c <= 57);
const isDigit = (c: number) => c >= 48 && c <= 57;

function describeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  const hex = code.toString(16).toUpperCase().padStart(4, '0');
  // CPython distinguishes printable from non-printable characters in its message.
  return /[\p{Cc}\p{Cf}\p{Zs}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/u.test(ch)
    ? `invalid non-printable character U+${hex}`
    : `invalid character '${ch}' (U+${hex})`;
}

class TokenizeError extends Error {
  constructor(readonly problem: PySyntaxProblem) {
    super(problem.message);
  }
}

interface OpenBracket {
  ch: string;
  line: number;
  col: number;
}

/** What a string literal being read looks like (f-string scanning passes it down). */
interface StringShape {
  q: number;
  triple: boolean;
  raw: boolean;
  line: number;
  col: number;
}

/**
 * The tokenizer's state and its scanners. A class rather than closures: tokenizing runs once per
 * cell on notebooks with thousands of cells, and per-string closure allocation showed in profiles.
 */
class Lexer {
  readonly n: number;
  readonly tokens: PyToken[] = [];
  readonly lines: LogicalLine[] = [];
  readonly brackets: OpenBracket[] = [];
  pos = 0;
  line = 1;
  lineStart = 0;
  /** The logical line being read, once it has started. */
  current: LogicalLine | undefined;
  fstringDepth = 0;

  constructor(
    readonly src: string,
    readonly ipython: boolean,
  ) {
    this.n = src.length;
  }

  fail(message: string, kind: ProblemKind, line: number, col: number): never {
    throw new TokenizeError({ line, col, message, kind });
  }

  colAt(p: number): number {
    return p - this.lineStart + 1;
  }

  newline(at: number): void {
    this.line++;
    this.lineStart = at + 1;
  }

  push(type: TokenType, start: number, end: number, line: number, col: number): void {
    this.tokens.push({ type, text: this.src.slice(start, end), line, col, depth: this.brackets.length });
  }

  endLogicalLine(): void {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    const tokens = this.tokens;
    if (tokens.length === current.start) {
      // Nothing but a BOM or line continuations: not a logical line.
      this.lines.pop();
      return;
    }
    current.end = tokens.length;
    current.complete = true;
    if (!this.ipython || current.magic) return;
    // `obj?` / `obj??` help: IPython turns the whole line into a pinfo call.
    const last = tokens[current.end - 1]!;
    if (last.type !== 'op' || last.text !== '?') return;
    const first = tokens[current.start]!;
    let text = '';
    for (let i = current.start; i < current.end; i++) text += tokens[i]!.text;
    tokens.length = current.start;
    tokens.push({ type: 'magic', text, line: first.line, col: first.col, depth: 0 });
    current.end = tokens.length;
    current.magic = true;
  }

  /** Consumes the rest of the physical line, and following lines while a line ends with `\`. */
  consumeMagicText(start: number): number {
    const src = this.src;
    let p = start;
    for (;;) {
      const nl = src.indexOf('\n', p);
      if (nl === -1) return this.n;
      if (src.charCodeAt(nl - 1) === 92 /* \ */ && nl - 1 >= start) {
        p = nl + 1;
        this.newline(nl);
        continue;
      }
      return nl;
    }
  }

  identifierEnd(start: number): number {
    const src = this.src;
    let p = start;
    while (p < this.n) {
      const c = src.charCodeAt(p);
      if (isAsciiIdContinue(c)) {
        p++;
        continue;
      }
      if (c < 128) break;
      const ch = String.fromCodePoint(src.codePointAt(p)!);
      if (!ID_CONTINUE_RE.test(ch)) break;
      p += ch.length;
    }
    return p;
  }

  unterminated(shape: StringShape): never {
    return this.fail(
      shape.triple
        ? `unterminated triple-quoted string literal (detected at line ${this.line})`
        : `unterminated string literal (detected at line ${this.line})`,
      'string',
      shape.line,
      shape.col,
    );
  }

  atClose(shape: StringShape, at: number): boolean {
    const src = this.src;
    return (
      src.charCodeAt(at) === shape.q &&
      (!shape.triple || (src.charCodeAt(at + 1) === shape.q && src.charCodeAt(at + 2) === shape.q))
    );
  }

  /** Reads a string literal whose opening quote is at `quotePos`; returns the position after it. */
  string(line: number, col: number, quotePos: number, prefix: string): number {
    const src = this.src;
    let isF = false;
    let raw = false;
    let bytes = false;
    for (let i = 0; i < prefix.length; i++) {
      const c = prefix.charCodeAt(i) | 32;
      if (c === 102 /* f */ || c === 116 /* t */) isF = true;
      else if (c === 114 /* r */) raw = true;
      else if (c === 98 /* b */) bytes = true;
    }
    const q = src.charCodeAt(quotePos);
    const triple = src.charCodeAt(quotePos + 1) === q && src.charCodeAt(quotePos + 2) === q;
    const shape: StringShape = { q, triple, raw, line, col };
    const p = quotePos + (triple ? 3 : 1);
    return isF ? this.fstringBody(shape, p) : this.plainBody(shape, p, bytes);
  }

  plainBody(shape: StringShape, start: number, bytes: boolean): number {
    const src = this.src;
    const n = this.n;
    const q = shape.q;
    let p = start;
    for (;;) {
      if (p >= n) this.unterminated(shape);
      const c = src.charCodeAt(p);
      if (c === 92 /* \ */) {
        if (src.charCodeAt(p + 1) === 10) this.newline(p + 1);
        p += 2;
        continue;
      }
      if (c === 10) {
        if (!shape.triple) this.unterminated(shape);
        this.newline(p);
        p++;
        continue;
      }
      if (c === q && this.atClose(shape, p)) return p + (shape.triple ? 3 : 1);
      if (bytes && c >= 128)
        this.fail('bytes can only contain ASCII literal characters', 'string', shape.line, shape.col);
      p++;
    }
  }

  /** f-string (PEP 701 rules): literal text with `{expression!conv:spec}` replacement fields. */
  fstringBody(shape: StringShape, start: number): number {
    const src = this.src;
    const n = this.n;
    let p = start;
    for (;;) {
      if (p >= n) this.unterminated(shape);
      const c = src.charCodeAt(p);
      if (c === 92 /* \ */) {
        const next = src.charCodeAt(p + 1);
        if (next === 123 || next === 125) {
          p++;
          continue;
        }
        if (!shape.raw && next === 78 /* N */ && src.charCodeAt(p + 2) === 123) {
          const close = src.indexOf('}', p + 3);
          const nl = src.indexOf('\n', p + 3);
          if (close !== -1 && (nl === -1 || close < nl)) {
            p = close + 1;
            continue;
          }
        }
        if (next === 10) this.newline(p + 1);
        p += 2;
        continue;
      }
      if (c === 10) {
        if (!shape.triple) this.unterminated(shape);
        this.newline(p);
        p++;
        continue;
      }
      if (c === shape.q && this.atClose(shape, p)) return p + (shape.triple ? 3 : 1);
      if (c === 123 /* { */) {
        if (src.charCodeAt(p + 1) === 123) {
          p += 2;
          continue;
        }
        p = this.fieldExpression(shape, p + 1);
        continue;
      }
      if (c === 125 /* } */) {
        if (src.charCodeAt(p + 1) === 125) {
          p += 2;
          continue;
        }
        this.fail("f-string: single '}' is not allowed", 'fstring', this.line, this.colAt(p));
      }
      p++;
    }
  }

  /** A replacement field's expression from after `{`; returns the position after its `}`. */
  fieldExpression(shape: StringShape, start: number): number {
    // Nested f-strings recurse; CPython stops at 150 levels, and so must we (untrusted input).
    if (++this.fstringDepth > 150) this.fail('too many nested f-strings', 'fstring', shape.line, shape.col);
    const end = this.fieldExpressionBody(shape, start);
    this.fstringDepth--;
    return end;
  }

  fieldExpressionBody(shape: StringShape, start: number): number {
    const src = this.src;
    const n = this.n;
    let p = start;
    let depth = 0;
    let empty = true;
    for (;;) {
      if (p >= n) this.unterminated(shape);
      const c = src.charCodeAt(p);
      if (c === 32 || c === 9 || c === 12) {
        p++;
        continue;
      }
      if (c === 10) {
        this.newline(p);
        p++;
        continue;
      }
      if (c === 35 /* # */) {
        const nl = src.indexOf('\n', p);
        p = nl === -1 ? n : nl;
        continue;
      }
      if (
        depth === 0 &&
        (c === 125 /* } */ || c === 58 /* : */ || (c === 33 /* ! */ && src.charCodeAt(p + 1) !== 61))
      ) {
        if (empty) this.fail('f-string: empty expression not allowed', 'fstring', this.line, this.colAt(p));
        if (c === 125) return p + 1;
        if (c === 58) return this.formatSpec(shape, p + 1);
        p = this.identifierEnd(p + 1); // conversion `!r`, then `:` or `}`
        continue;
      }
      empty = false;
      if (c === 34 || c === 39) {
        // Python 3.12 allows the outer quote inside a replacement field; accepting it never
        // rejects valid code (3.11 rejects some of these, which is not a false positive here).
        p = this.string(this.line, this.colAt(p), p, '');
        continue;
      }
      if (isAsciiIdStart(c) || c >= 128) {
        const end = this.identifierEnd(p);
        if (end === p) {
          p++;
          continue;
        }
        const next = src.charCodeAt(end);
        if ((next === 34 || next === 39) && STRING_PREFIXES.has(src.slice(p, end).toLowerCase())) {
          p = this.string(this.line, this.colAt(p), end, src.slice(p, end));
        } else p = end;
        continue;
      }
      if (c === 40 || c === 91 || c === 123) depth++;
      else if ((c === 41 || c === 93 || c === 125) && depth > 0) depth--;
      p++;
    }
  }

  /** A format spec from after `:`; returns the position after the field's closing `}`. */
  formatSpec(shape: StringShape, start: number): number {
    const src = this.src;
    let p = start;
    for (;;) {
      if (p >= this.n) this.unterminated(shape);
      const c = src.charCodeAt(p);
      if (c === 125 /* } */) return p + 1;
      if (c === 123 /* { */) {
        p = this.fieldExpression(shape, p + 1);
        continue;
      }
      if (c === 10) {
        if (!shape.triple) this.unterminated(shape);
        this.newline(p);
      } else if (c === shape.q && this.atClose(shape, p)) {
        this.fail("f-string: expecting '}'", 'fstring', shape.line, shape.col);
      }
      p++;
    }
  }

  /** At the start of a physical line outside brackets: indentation, blank lines, IPython escapes. */
  lineStartOf(): void {
    const src = this.src;
    const n = this.n;
    let indent = 0;
    let altIndent = 0;
    let p = this.pos;
    for (; p < n; p++) {
      const c = src.charCodeAt(p);
      if (c === 32) {
        indent++;
        altIndent++;
      } else if (c === 9) {
        indent = (Math.floor(indent / 8) + 1) * 8;
        altIndent++;
      } else if (c === 12) {
        indent = 0;
        altIndent = 0;
      } else break;
    }
    const c = src.charCodeAt(p);
    if (p >= n || c === 10 || c === 35 /* # */) {
      // Blank or comment-only line: no logical line, no indentation change.
      const nl = src.indexOf('\n', p);
      this.pos = nl === -1 ? n : nl;
      return;
    }
    this.pos = p;
    const current: LogicalLine = {
      start: this.tokens.length,
      end: this.tokens.length,
      line: this.line,
      indent,
      altIndent,
      complete: false,
      magic: false,
    };
    this.current = current;
    this.lines.push(current);
    if (this.ipython && (c === 33 || c === 37 || c === 63 || c === 47 || c === 44 || c === 59)) {
      // ! % ? / , ; start an IPython escape: the rest of the line is one command.
      const end = this.consumeMagicText(p);
      this.tokens.push({
        type: 'magic',
        text: src.slice(p, end),
        line: current.line,
        col: this.colAt(p),
        depth: 0,
      });
      current.magic = true;
      this.pos = end;
    }
  }

  run(startAtLineStart = true): void {
    const src = this.src;
    const n = this.n;
    const tokens = this.tokens;
    let atLineStart = startAtLineStart;
    for (;;) {
      if (atLineStart) {
        atLineStart = false;
        if (this.brackets.length === 0 && !this.current) this.lineStartOf();
      }
      let pos = this.pos;
      if (pos >= n) {
        const open = this.brackets[this.brackets.length - 1];
        if (open) this.fail(`'${open.ch}' was never closed`, 'bracket', open.line, open.col);
        this.endLogicalLine();
        return;
      }
      const c = src.charCodeAt(pos);
      if (c === 32 || c === 9 || c === 12 || c === 13) {
        this.pos = pos + 1;
        continue;
      }
      if (c === 35 /* # */) {
        const nl = src.indexOf('\n', pos);
        this.pos = nl === -1 ? n : nl;
        continue;
      }
      if (c === 10) {
        if (this.brackets.length === 0) this.endLogicalLine();
        this.newline(pos);
        this.pos = pos + 1;
        atLineStart = true;
        continue;
      }
      if (c === 92 /* \ */) {
        if (src.charCodeAt(pos + 1) === 10) {
          if (pos + 2 >= n)
            this.fail('unexpected EOF while parsing', 'continuation', this.line, this.colAt(pos));
          this.newline(pos + 1);
          this.pos = pos + 2;
          continue;
        }
        if (pos + 1 >= n)
          this.fail('unexpected EOF while parsing', 'continuation', this.line, this.colAt(pos));
        this.fail(
          'unexpected character after line continuation character',
          'continuation',
          this.line,
          this.colAt(pos),
        );
      }
      if (c === 0)
        this.fail('source code cannot contain null bytes', 'character', this.line, this.colAt(pos));

      const line = this.line;
      const col = this.colAt(pos);
      const start = pos;

      if (isAsciiIdStart(c) || (c >= 128 && ID_START_RE.test(String.fromCodePoint(src.codePointAt(pos)!)))) {
        const end = this.identifierEnd(pos);
        const next = src.charCodeAt(end);
        if (
          (next === 34 || next === 39) &&
          end - start <= 2 &&
          STRING_PREFIXES.has(src.slice(start, end).toLowerCase())
        ) {
          this.pos = this.string(line, col, end, src.slice(start, end));
          this.push('string', start, this.pos, line, col);
        } else {
          this.pos = end;
          this.push('name', start, end, line, col);
        }
        continue;
      }
      if (c >= 128) {
        if (pos === 0 && c === 0xfeff) {
          this.pos = 1;
          continue;
        }
        this.fail(describeChar(String.fromCodePoint(src.codePointAt(pos)!)), 'character', line, col);
      }
      if (isDigit(c) || (c === 46 && isDigit(src.charCodeAt(pos + 1)))) {
        NUMBER_RE.lastIndex = pos;
        const m = NUMBER_RE.exec(src);
        const text = m ? m[0] : src[pos]!;
        if (c === 48 && LEADING_ZERO_RE.test(text)) {
          this.fail(
            'leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers',
            'number',
            line,
            col,
          );
        }
        this.pos = pos + text.length;
        tokens.push({ type: 'number', text, line, col, depth: this.brackets.length });
        continue;
      }
      if (c === 34 || c === 39) {
        this.pos = this.string(line, col, pos, '');
        this.push('string', start, this.pos, line, col);
        continue;
      }
      const length = operatorLength(src, pos);
      if (length === 0) this.fail(describeChar(src[pos]!), 'character', line, col);
      if (this.ipython && (c === 33 || c === 37) && length === 1 && this.magicAssignment(pos)) continue;
      if (c === 40 || c === 91 || c === 123) {
        if (this.brackets.length >= 200) this.fail('too many nested parentheses', 'bracket', line, col);
        this.push('op', start, pos + 1, line, col);
        this.brackets.push({ ch: src[pos]!, line, col });
        this.pos = pos + 1;
        continue;
      }
      if (c === 41 || c === 93 || c === 125) {
        const op = src[pos]!;
        const open = this.brackets[this.brackets.length - 1];
        if (!open) this.fail(`unmatched '${op}'`, 'bracket', line, col);
        if (open.ch !== CLOSERS[op]) {
          const where = open.line !== line ? ` on line ${open.line}` : '';
          this.fail(
            `closing parenthesis '${op}' does not match opening parenthesis '${open.ch}'${where}`,
            'bracket',
            line,
            col,
          );
        }
        this.brackets.pop();
        this.push('op', start, pos + 1, line, col);
        this.pos = pos + 1;
        continue;
      }
      pos += length;
      this.pos = pos;
      this.push('op', start, pos, line, col);
    }
  }

  /**
   * IPython reads a line ending in `?` as a help request (`obj?`) whatever comes before the `?`,
   * even text that does not tokenize. When a lexical error hits such a line, make the line one magic
   * token and let the caller resume after it.
   */
  helpLineInstead(problem: PySyntaxProblem): boolean {
    const current = this.current;
    if (!current || current.magic || problem.line !== current.line) return false;
    const lineStart = this.src.lastIndexOf('\n', this.pos - 1) + 1;
    if (this.line !== current.line) return false;
    const nl = this.src.indexOf('\n', lineStart);
    const end = nl === -1 ? this.n : nl;
    const text = this.src.slice(lineStart, end).trimEnd();
    if (!text.endsWith('?')) return false;
    this.tokens.length = current.start;
    const start = lineStart + (text.length - text.trimStart().length);
    this.tokens.push({
      type: 'magic',
      text: text.trimStart(),
      line: current.line,
      col: this.colAt(start),
      depth: 0,
    });
    current.magic = true;
    this.brackets.length = 0;
    this.fstringDepth = 0;
    this.pos = end;
    return true;
  }

  /** `name = !cmd` and `name = %magic args` (IPython's SystemAssign / MagicAssign). */
  magicAssignment(pos: number): boolean {
    const current = this.current;
    const tokens = this.tokens;
    if (this.brackets.length > 0 || !current) return false;
    const prev = tokens[tokens.length - 1];
    const first = tokens[current.start];
    if (prev?.type !== 'op' || prev.text !== '=' || first?.type !== 'name') return false;
    if (this.src.charCodeAt(pos) === 37) {
      // `%` then a name token (spaces allowed between them, as for any two tokens).
      let p = pos + 1;
      while (this.src.charCodeAt(p) === 32 || this.src.charCodeAt(p) === 9) p++;
      if (!isAsciiIdStart(this.src.charCodeAt(p))) return false;
    }
    // Only the first `=` of the line counts: IPython leaves `x = y = !ls` alone (a syntax error).
    for (let k = current.start; k < tokens.length - 1; k++) {
      if (tokens[k]!.type === 'op' && tokens[k]!.text === '=') return false;
    }
    const end = this.consumeMagicText(pos);
    tokens.push({
      type: 'magic',
      text: this.src.slice(pos, end),
      line: this.line,
      col: this.colAt(pos),
      depth: 0,
    });
    this.pos = end;
    return true;
  }
}

/** Length of the operator at `pos` (longest match), 0 when the character is not an operator. */
function operatorLength(src: string, pos: number): number {
  const c = src.charCodeAt(pos);
  const c2 = src.charCodeAt(pos + 1);
  const c3 = src.charCodeAt(pos + 2);
  switch (c) {
    case 42: // *
      if (c2 === 42) return c3 === 61 ? 3 : 2;
      return c2 === 61 ? 2 : 1;
    case 47: // /
      if (c2 === 47) return c3 === 61 ? 3 : 2;
      return c2 === 61 ? 2 : 1;
    case 62: // >
      if (c2 === 62) return c3 === 61 ? 3 : 2;
      return c2 === 61 ? 2 : 1;
    case 60: // <
      if (c2 === 60) return c3 === 61 ? 3 : 2;
      return c2 === 61 || c2 === 62 ? 2 : 1;
    case 46: // .
      return c2 === 46 && c3 === 46 ? 3 : 1;
    case 45: // -
      return c2 === 61 || c2 === 62 ? 2 : 1;
    case 58: // :
    case 61: // =
    case 33: // !
    case 37: // %
    case 38: // &
    case 43: // +
    case 64: // @
    case 94: // ^
    case 124: // |
      return c2 === 61 ? 2 : 1;
    case 40:
    case 41:
    case 91:
    case 93:
    case 123:
    case 125:
    case 44: // ,
    case 59: // ;
    case 126: // ~
    case 63: // ?
    case 36: // $
    case 96: // `
      return 1;
    default:
      return 0;
  }
}

/**
 * Tokenizes `src` (newlines `\n`; callers normalise `\r\n`). Stops at the first lexical error and
 * returns what it read so far plus the error.
 */
export function tokenize(src: string, options: TokenizeOptions = {}): TokenizeResult {
  const lexer = new Lexer(src, options.ipython === true);
  let resume = false;
  for (;;) {
    try {
      lexer.run(!resume);
      return { tokens: lexer.tokens, lines: lexer.lines };
    } catch (e) {
      if (!(e instanceof TokenizeError)) throw e;
      if (lexer.ipython && lexer.helpLineInstead(e.problem)) {
        resume = true;
        continue;
      }
      if (lexer.current) lexer.current.end = lexer.tokens.length;
      return { tokens: lexer.tokens, lines: lexer.lines, error: e.problem };
    }
  }
}

/** CPython's keywords (hard keywords only; `match`, `case`, `type`, `_` are soft). */
export const KEYWORDS = new Set([
  'False',
  'None',
  'True',
  'and',
  'as',
  'assert',
  'async',
  'await',
  'break',
  'class',
  'continue',
  'def',
  'del',
  'elif',
  'else',
  'except',
  'finally',
  'for',
  'from',
  'global',
  'if',
  'import',
  'in',
  'is',
  'lambda',
  'nonlocal',
  'not',
  'or',
  'pass',
  'raise',
  'return',
  'try',
  'while',
  'with',
  'yield',
]);
