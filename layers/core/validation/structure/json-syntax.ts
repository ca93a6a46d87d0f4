/**
 * Describes the first JSON syntax error of a text in words a notebook author understands (error
 * path only: JSON.parse decides validity, this says what and where).
 */
// Local on purpose (see json-text.ts): this walks whole files char by char.
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;

export interface SyntaxProblem {
  offset: number;
  message: string;
  truncated?: boolean;
}

export function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function describeChar(text: string, i: number): string {
  const c = text.codePointAt(i)!;
  if (c < 0x20 || c === 0x7f) return `control character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  return `'${String.fromCodePoint(c)}'`;
}

/**
 * A strict, non-building JSON syntax check that says what is wrong in words a notebook author
 * understands. Iterative (explicit stack), so hostile nesting cannot overflow it.
 */
export function findSyntaxProblem(text: string): SyntaxProblem | undefined {
  const n = text.length;
  const stack: boolean[] = []; // true = object
  const opened: number[] = [];
  let i = 0;
  const ws = () => {
    while (i < n && isWs(text.charCodeAt(i))) i++;
  };
  const end = (what: string): SyntaxProblem => {
    const top = opened.length > 0 ? opened[opened.length - 1]! : -1;
    const open =
      top >= 0
        ? ` (the ${stack[stack.length - 1] ? 'object' : 'array'} opened on line ${lineOf(text, top)} is never closed)`
        : '';
    return { offset: n, message: `the file ends ${what}${open}`, truncated: true };
  };

  // state: 0 = expect value, 1 = expect key, 2 = after value
  let state = 0;
  for (;;) {
    ws();
    if (state === 0) {
      if (i >= n) return end('where a value was expected');
      const c = text.charCodeAt(i);
      if (c === LBRACE || c === LBRACKET) {
        stack.push(c === LBRACE);
        opened.push(i);
        i++;
        ws();
        const close = text.charCodeAt(i);
        if (close === (c === LBRACE ? RBRACE : RBRACKET)) {
          stack.pop();
          opened.pop();
          i++;
          state = 2;
        } else state = c === LBRACE ? 1 : 0;
        continue;
      }
      const p = scalar();
      if (p) return p;
      state = 2;
      continue;
    }
    if (state === 1) {
      if (i >= n) return end('where a property name was expected');
      const c = text.charCodeAt(i);
      if (c !== QUOTE) {
        if (c === RBRACE && prevNonWs(text, i) === COMMA)
          return { offset: prevNonWsIndex(text, i), message: "trailing comma before '}' (JSON allows none)" };
        if (c === 39) return { offset: i, message: 'property names need double quotes, not single quotes' };
        return {
          offset: i,
          message: `expected a property name in double quotes, found ${describeChar(text, i)}`,
        };
      }
      const p = string();
      if (p) return p;
      ws();
      if (i >= n) return end("where ':' was expected");
      if (text.charCodeAt(i) !== 58)
        return { offset: i, message: `expected ':' after the property name, found ${describeChar(text, i)}` };
      i++;
      state = 0;
      continue;
    }
    // state 2: after a value
    if (stack.length === 0) {
      if (i < n)
        return {
          offset: i,
          message: `unexpected ${describeChar(text, i)} after the end of the JSON document`,
        };
      return undefined;
    }
    const inObj = stack[stack.length - 1]!;
    if (i >= n) return end(inObj ? "where ',' or '}' was expected" : "where ',' or ']' was expected");
    const c = text.charCodeAt(i);
    if (c === COMMA) {
      i++;
      ws();
      if (!inObj && text.charCodeAt(i) === RBRACKET)
        return { offset: prevNonWsIndex(text, i), message: "trailing comma before ']' (JSON allows none)" };
      state = inObj ? 1 : 0;
      continue;
    }
    if (c === (inObj ? RBRACE : RBRACKET)) {
      stack.pop();
      opened.pop();
      i++;
      continue;
    }
    return {
      offset: i,
      message: inObj
        ? `expected ',' or '}' after a property value, found ${describeChar(text, i)} (a missing comma?)`
        : `expected ',' or ']' after an array element, found ${describeChar(text, i)} (a missing comma?)`,
    };
  }

  function string(): SyntaxProblem | undefined {
    const start = i;
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        i++;
        return undefined;
      }
      if (c < 0x20) {
        const what = c === 10 ? 'a raw line break' : describeChar(text, i);
        return { offset: i, message: `${what} inside a string (write it as an escape such as \\n)` };
      }
      if (c === BACKSLASH) {
        const e = text.charCodeAt(i + 1);
        if (i + 1 >= n) break;
        if (e === 117) {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            if (i + 6 > n) break;
            return { offset: i, message: 'invalid \\u escape in a string (it needs four hex digits)' };
          }
          i += 6;
          continue;
        }
        if ('"\\/bfnrt'.includes(text[i + 1]!)) {
          i += 2;
          continue;
        }
        return { offset: i, message: `invalid escape \\${text[i + 1]} in a string` };
      }
      i++;
    }
    return {
      offset: n,
      message: `the file ends inside the string that starts on line ${lineOf(text, start)}`,
      truncated: true,
    };
  }

  function scalar(): SyntaxProblem | undefined {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return string();
    const rest = text.slice(i, i + 9);
    for (const word of ['true', 'false', 'null']) {
      if (rest.startsWith(word)) {
        i += word.length;
        return undefined;
      }
      if (i + rest.length >= n && word.startsWith(rest) && rest.length > 0)
        return { offset: n, message: `the file ends inside the literal ${word}`, truncated: true };
    }
    if (/^-?(NaN|Infinity)/.test(rest))
      return {
        offset: i,
        message: `${rest.startsWith('-') ? '-Infinity' : rest.startsWith('N') ? 'NaN' : 'Infinity'} is not valid JSON (Python's json writes it for float nan/inf; use null or a string)`,
      };
    if (c === 45 || (c >= 48 && c <= 57)) {
      const m = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
      m.lastIndex = i;
      const hit = m.exec(text);
      if (!hit || hit[0] === '-')
        return i + 1 >= n ? end('inside a number') : { offset: i, message: 'invalid number' };
      const next = text.charCodeAt(i + hit[0].length);
      if ((next >= 48 && next <= 57) || next === 46 || next === 101 || next === 69)
        return { offset: i, message: `invalid number starting ${JSON.stringify(text.slice(i, i + 12))}` };
      i += hit[0].length;
      return undefined;
    }
    if (c === 39) return { offset: i, message: 'strings need double quotes, not single quotes' };
    if ((c === RBRACE || c === RBRACKET) && prevNonWs(text, i) === COMMA)
      return {
        offset: prevNonWsIndex(text, i),
        message: `trailing comma before '${text[i]}' (JSON allows none)`,
      };
    return { offset: i, message: `unexpected ${describeChar(text, i)} where a value was expected` };
  }
}

function prevNonWsIndex(text: string, i: number): number {
  let k = i - 1;
  while (k >= 0 && isWs(text.charCodeAt(k))) k--;
  return k;
}

function prevNonWs(text: string, i: number): number {
  const k = prevNonWsIndex(text, i);
  return k >= 0 ? text.charCodeAt(k) : -1;
}

export function lineOf(text: string, offset: number): number {
  let line = 1;
  let nl = text.indexOf('\n');
  while (nl !== -1 && nl < offset) {
    line++;
    nl = text.indexOf('\n', nl + 1);
  }
  return line;
}

/** The line containing `offset`, shortened around it for display. */
export function lineText(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  let stop = text.indexOf('\n', offset);
  if (stop === -1) stop = text.length;
  const from = Math.max(start, offset - 80);
  const to = Math.min(stop, offset + 80);
  return (from > start ? '…' : '') + text.slice(from, to).replace(/\r$/, '') + (to < stop ? '…' : '');
}
