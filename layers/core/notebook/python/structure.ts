/**
 * Statement-level checks over the tokenizer's logical lines: indentation (as CPython's tokenizer and
 * parser see it), compound statement headers (colon and block), clause order (elif/else/except/
 * finally), decorators, Python 2 statements and a few token sequences that are never valid.
 *
 * Every check here is one that no valid Python program can trigger; where the grammar is subtle
 * (soft keywords `match`/`case`/`type`, f-string contents) the checks step aside instead of guessing.
 */
import {
  KEYWORDS,
  type LogicalLine,
  type ProblemKind,
  type PySyntaxProblem,
  type PyToken,
  type TokenizeResult,
} from './tokenizer';

const COMPOUND_HEADERS = new Set([
  'if',
  'elif',
  'else',
  'while',
  'for',
  'with',
  'def',
  'class',
  'try',
  'except',
  'finally',
  'async',
]);

const BLOCK_OWNER: Record<string, string> = {
  def: 'function definition',
  class: 'class definition',
};

/** Soft keywords that may start a statement followed directly by a name (`match x:`, `type X = int`). */
const SOFT_STATEMENT_STARTS = new Set(['match', 'case', 'type', 'lazy']);

/** Tokens that can never end a logical line (an expression or statement is missing after them). */
const CANNOT_END_LINE = new Set([
  '=',
  '+',
  '-',
  '/',
  '//',
  '%',
  '@',
  '**',
  '<<',
  '>>',
  '&',
  '|',
  '^',
  '~',
  '<',
  '>',
  '<=',
  '>=',
  '==',
  '!=',
  '+=',
  '-=',
  '*=',
  '/=',
  '//=',
  '%=',
  '@=',
  '&=',
  '|=',
  '^=',
  '>>=',
  '<<=',
  '**=',
  '.',
  '->',
  ':=',
]);
const KEYWORDS_CANNOT_END_LINE = new Set([
  'and',
  'or',
  'not',
  'in',
  'is',
  'if',
  'elif',
  'else',
  'lambda',
  'import',
  'from',
  'as',
  'assert',
  'del',
  'global',
  'nonlocal',
  'while',
  'for',
  'with',
  'def',
  'class',
  'await',
  'async',
]);

/** Operators that are never valid in Python 3 source (outside IPython escapes, handled earlier). */
const INVALID_OPS = new Set(['?', '!', '$', '`', '<>']);

/** A value-like token: a non-keyword name (True/False/None count), a number or a string. */
function isAtom(t: PyToken): boolean {
  if (t.type === 'number' || t.type === 'string') return true;
  if (t.type !== 'name') return false;
  return !KEYWORDS.has(t.text) || t.text === 'True' || t.text === 'False' || t.text === 'None';
}

/** An operator or keyword that needs an operand, directly followed by a token that cannot start one. */
function missingOperand(a: PyToken, b: PyToken): boolean {
  if (b.type !== 'op') return false;
  const closes = b.text === ')' || b.text === ']' || b.text === '}' || b.text === ',' || b.text === ';';
  // `/` is excluded: it marks positional-only parameters (`def f(a, /, b)`).
  if (a.type === 'op') return a.text !== '/' && CANNOT_END_LINE.has(a.text) && (closes || b.text === ':');
  return a.type === 'name' && KEYWORDS_CANNOT_END_LINE.has(a.text) && closes;
}

function problemAt(t: PyToken, message = 'invalid syntax', kind: ProblemKind = 'syntax'): PySyntaxProblem {
  return { line: t.line, col: t.col, message, kind };
}

function isBytes(t: PyToken): boolean {
  const quote = t.text.search(/['"]/);
  return /b/i.test(t.text.slice(0, quote));
}

type ClauseKind = 'if' | 'loop' | 'try' | 'except' | 'try-else' | 'closed' | 'stmt';

function statementKind(tokens: PyToken[], l: LogicalLine): { keyword: string | undefined; kind: ClauseKind } {
  const first = tokens[l.start];
  if (!first || l.magic || first.type !== 'name') return { keyword: undefined, kind: 'stmt' };
  let keyword = first.text;
  if (keyword === 'async') keyword = tokens[l.start + 1]?.text ?? 'async';
  switch (keyword) {
    case 'if':
    case 'elif':
      return { keyword: first.text, kind: 'if' };
    case 'for':
    case 'while':
      return { keyword: first.text, kind: 'loop' };
    case 'try':
      return { keyword, kind: 'try' };
    case 'except':
      return { keyword, kind: 'except' };
    case 'else':
      return { keyword, kind: 'closed' };
    case 'finally':
      return { keyword, kind: 'closed' };
    default:
      return { keyword: first.text, kind: 'stmt' };
  }
}

function blockOwner(tokens: PyToken[], l: LogicalLine): string {
  const first = tokens[l.start];
  if (!first) return 'statement';
  let word = first.text;
  if (word === 'async') word = tokens[l.start + 1]?.text ?? word;
  if (word === '@') return 'decorator';
  if (BLOCK_OWNER[word]) return BLOCK_OWNER[word]!;
  return `'${word}' statement`;
}

function endCol(t: PyToken): number {
  const nl = t.text.lastIndexOf('\n');
  return nl === -1 ? t.col + t.text.length : t.text.length - nl;
}

function endLine(t: PyToken): number {
  let count = 0;
  for (let i = t.text.indexOf('\n'); i !== -1; i = t.text.indexOf('\n', i + 1)) count++;
  return t.line + count;
}

/** Token-level problems inside one complete, non-magic logical line; the earliest wins. */
function checkLineTokens(tokens: PyToken[], l: LogicalLine): PySyntaxProblem | undefined {
  const first = tokens[l.start]!;
  const second = tokens[l.start + 1];
  // `match x:`, `case "a":`, `type X = int`: a soft keyword directly followed by a value is a statement.
  const skipAdjacency =
    first.type === 'name' && SOFT_STATEMENT_STARTS.has(first.text) && second !== undefined && isAtom(second);

  let prev: PyToken | undefined;
  let prevAtom = false;
  for (let i = l.start; i < l.end; i++, prev = tokens[i - 1]) {
    const t = tokens[i]!;
    const atom = isAtom(t);
    if (t.type === 'op') {
      if (INVALID_OPS.has(t.text)) return problemAt(t);
      if (prev && missingOperand(prev, t)) return problemAt(t);
    } else if (t.type === 'string') {
      if (prev?.type === 'string' && isBytes(t) !== isBytes(prev)) {
        return problemAt(prev, 'cannot mix bytes and nonbytes literals', 'string');
      }
    } else if (t.type === 'name' && (t.text === 'print' || t.text === 'exec' || t.text === 'raise')) {
      const atStatementStart = !prev || (prev.type === 'op' && prev.text === ';');
      const next = i + 1 < l.end ? tokens[i + 1] : undefined;
      if (atStatementStart && t.text !== 'raise' && next && isAtom(next)) {
        // Python 2 `print "x"` / `exec "code"`.
        const message = `Missing parentheses in call to '${t.text}'. Did you mean ${t.text}(...)?`;
        return problemAt(t, message, 'python2');
      }
      if (atStatementStart && t.text === 'raise') {
        // Python 2 `raise E, "message"`: Python 3 raises one expression.
        for (let j = i + 1; j < l.end; j++) {
          const c = tokens[j]!;
          if (c.type !== 'op' || c.depth !== 0) continue;
          if (c.text === ';') break;
          if (c.text === ',') return problemAt(c, 'invalid syntax', 'python2');
        }
      }
    }
    // Two values in a row (`x y`, `f(a b)`, `"a" 1`, `(a) b`); adjacent strings concatenate.
    if (atom && prev && !skipAdjacency && !(prev.type === 'string' && t.type === 'string')) {
      const closer = prev.type === 'op' && (prev.text === ')' || prev.text === ']' || prev.text === '}');
      if (prevAtom || closer) {
        return problemAt(t, t.depth > 0 ? 'invalid syntax. Perhaps you forgot a comma?' : 'invalid syntax');
      }
    }
    prevAtom = atom;
  }

  const last = tokens[l.end - 1]!;
  // Compound statement header without its colon.
  let header = first.type === 'name' && COMPOUND_HEADERS.has(first.text);
  if (first.text === 'async') header = ['def', 'for', 'with'].includes(tokens[l.start + 1]?.text ?? '');
  if (header) {
    let colons = 0;
    let lambdas = 0;
    for (let i = l.start; i < l.end; i++) {
      const t = tokens[i]!;
      if (t.depth !== 0) continue;
      if (t.type === 'op' && t.text === ':') colons++;
      else if (t.type === 'name' && t.text === 'lambda') lambdas++;
    }
    if (colons <= lambdas) {
      return { line: endLine(last), col: endCol(last), message: "expected ':'", kind: 'colon' };
    }
  }
  if (
    (last.type === 'op' && CANNOT_END_LINE.has(last.text)) ||
    (last.type === 'name' && KEYWORDS_CANNOT_END_LINE.has(last.text))
  ) {
    return { line: endLine(last), col: endCol(last), message: 'invalid syntax', kind: 'syntax' };
  }
  return undefined;
}

function tabError(line: number): PySyntaxProblem {
  return { line, col: 1, message: 'inconsistent use of tabs and spaces in indentation', kind: 'tab' };
}

function clauseError(l: LogicalLine, first: PyToken | undefined, message: string): PySyntaxProblem {
  return { line: l.line, col: first?.col ?? 1, message, kind: 'clause' };
}

/**
 * Checks the statements of a tokenized cell; returns the first problem in source order (the
 * tokenizer's own error included).
 */
export function checkStructure(result: TokenizeResult): PySyntaxProblem | undefined {
  const { tokens, lines, error } = result;
  const stack: { indent: number; alt: number }[] = [{ indent: 0, alt: 0 }];
  /** Per open block level: the kind of the last statement seen at that level. */
  const lastKind: ClauseKind[] = ['stmt'];
  let pendingHeader: LogicalLine | undefined;
  let pendingDecorator: LogicalLine | undefined;

  for (const l of lines) {
    if (l.end === l.start) {
      if (!l.complete) break;
      continue;
    }
    // 1. Indentation.
    const top = stack[stack.length - 1]!;
    if (l.indent > top.indent) {
      if (l.altIndent <= top.alt) return tabError(l.line);
      if (!pendingHeader) {
        return { line: l.line, col: l.indent + 1, message: 'unexpected indent', kind: 'indent' };
      }
      stack.push({ indent: l.indent, alt: l.altIndent });
      lastKind.push('stmt');
    } else {
      if (l.indent < top.indent) {
        while (stack.length > 1 && l.indent < stack[stack.length - 1]!.indent) {
          stack.pop();
          lastKind.pop();
        }
        if (l.indent !== stack[stack.length - 1]!.indent) {
          return {
            line: l.line,
            col: l.indent + 1,
            message: 'unindent does not match any outer indentation level',
            kind: 'indent',
          };
        }
      }
      if (l.altIndent !== stack[stack.length - 1]!.alt) return tabError(l.line);
      if (pendingHeader) {
        return {
          line: l.line,
          col: l.indent + 1,
          message: `expected an indented block after ${blockOwner(tokens, pendingHeader)} on line ${pendingHeader.line}`,
          kind: 'block',
        };
      }
    }
    pendingHeader = undefined;

    const first = tokens[l.start];
    // 2. A decorator must be followed by a def, a class or another decorator.
    if (pendingDecorator) {
      const word = first?.type === 'name' ? first.text : first?.text;
      const ok = word === '@' || word === 'def' || word === 'class' || word === 'async';
      if (!ok || l.magic) {
        return { line: l.line, col: first?.col ?? 1, message: 'invalid syntax', kind: 'syntax' };
      }
      pendingDecorator = undefined;
    }

    // 3. Clause order at this level.
    const level = lastKind.length - 1;
    const previous = lastKind[level]!;
    const { keyword, kind } = statementKind(tokens, l);
    if (previous === 'try' && keyword !== 'except' && keyword !== 'finally') {
      return clauseError(l, first, "expected 'except' or 'finally' block");
    }
    let newKind: ClauseKind = kind;
    if (keyword === 'elif' && previous !== 'if') return clauseError(l, first, 'invalid syntax');
    if (keyword === 'else') {
      if (previous === 'except') newKind = 'try-else';
      else if (previous !== 'if' && previous !== 'loop') return clauseError(l, first, 'invalid syntax');
    }
    if (keyword === 'except' && previous !== 'try' && previous !== 'except')
      return clauseError(l, first, 'invalid syntax');
    if (keyword === 'finally' && previous !== 'try' && previous !== 'except' && previous !== 'try-else') {
      return clauseError(l, first, 'invalid syntax');
    }
    lastKind[level] = newKind;

    if (!l.complete) break;
    if (l.magic || !first) continue;

    // 4. Tokens within the line.
    const problem = checkLineTokens(tokens, l);
    if (problem) return problem;

    const last = tokens[l.end - 1]!;
    if (last.type === 'op' && last.text === ':' && last.depth === 0) pendingHeader = l;
    if (first.type === 'op' && first.text === '@') pendingDecorator = l;
  }

  if (error) return error;
  const lastLine = lines[lines.length - 1];
  if (pendingHeader) {
    return {
      line: pendingHeader.line,
      col: endCol(tokens[pendingHeader.end - 1]!),
      message: `expected an indented block after ${blockOwner(tokens, pendingHeader)} on line ${pendingHeader.line}`,
      kind: 'block',
    };
  }
  if (pendingDecorator) {
    return { line: pendingDecorator.line, col: 1, message: 'invalid syntax', kind: 'syntax' };
  }
  if (lastKind.includes('try') && lastLine) {
    return { line: lastLine.line, col: 1, message: "expected 'except' or 'finally' block", kind: 'clause' };
  }
  return undefined;
}
