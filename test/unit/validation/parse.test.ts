import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_DEPTH,
  decodeUtf8,
  findSyntaxProblem,
  firstInvalidUtf8,
  locatePointers,
  type ParseOutcome,
  parseNotebook,
  parseRules,
  quickScanIsClean,
} from '#core/validation/parse';

const MB = 1024 * 1024;
const fixtureBytes = (name: string) =>
  readFileSync(new URL(`../../fixtures/structure/${name}`, import.meta.url));
const parse = (input: Uint8Array | string, maxDepth?: number) =>
  parseNotebook(input, maxDepth === undefined ? { maxBytes: 50 * MB } : { maxBytes: 50 * MB, maxDepth });
const bytes = (...b: number[]) => new Uint8Array(b);
const utf8 = (s: string) => new TextEncoder().encode(s);

function only(outcome: ParseOutcome) {
  expect(outcome.findings).toHaveLength(1);
  return outcome.findings[0]!;
}

describe('catalogue', () => {
  it('lists the rules the parser emits', () => {
    expect(parseRules.map((r) => r.id)).toEqual(['NB-001', 'NB-008', 'NB-009', 'NB-010', 'NB-011']);
    for (const r of parseRules) expect(r).toMatchObject({ family: 'structure', defaultSeverity: 'error' });
  });
});

describe('NB-010 size limit', () => {
  it('refuses a file over the limit without decoding it, and says by how much', () => {
    const big = new Uint8Array(64_172_851).fill(0xff); // not even UTF-8: never looked at
    const f = only(parseNotebook(big, { maxBytes: 50 * MB }));
    expect(f).toMatchObject({ rule: 'NB-010', severity: 'error', location: { pointer: '' } });
    expect(f.message).toContain('notebook is 61.2 MB');
    expect(f.message).toContain('the limit is 50 MB');
    expect(f.fix).toMatch(/nbconvert --clear-output.*nbstripout.*maxNotebookBytes/);
  });

  it('counts bytes, not characters, for text input, and accepts exactly the limit', () => {
    expect(parseNotebook('"é"', { maxBytes: 4 }).ok).toBe(true);
    expect(only(parseNotebook('"éé"', { maxBytes: 5 })).rule).toBe('NB-010');
    expect(parseNotebook(utf8('"éé"'), { maxBytes: 6 }).ok).toBe(true);
  });
});

describe('NB-009 encoding', () => {
  it('reports the byte offset and line of the first invalid byte (a Latin-1 file)', () => {
    const raw = fixtureBytes('latin1.ipynb');
    const offset = raw.indexOf(0xe8); // "è" in Latin-1
    const line = raw.subarray(0, offset).filter((b) => b === 0x0a).length + 1;
    const f = only(parse(raw));
    expect(f).toMatchObject({ rule: 'NB-009', location: { pointer: '', line } });
    expect(f.message).toContain(`offset ${offset} (line ${line})`);
    expect(f.fix).toContain('UTF-8');
  });

  it('recognises UTF-16 files', () => {
    expect(only(parse(bytes(0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00))).message).toContain('UTF-16');
  });

  it('accepts a UTF-8 byte order mark, in bytes and in text', () => {
    for (const input of [bytes(0xef, 0xbb, 0xbf, ...utf8('{"a": 1}')), '\ufeff{"a": 1}']) {
      const outcome = parse(input);
      expect(outcome).toMatchObject({ ok: true, value: { a: 1 }, text: '{"a": 1}', findings: [] });
    }
  });

  it('finds the first invalid sequence like a strict decoder', () => {
    expect(firstInvalidUtf8(utf8('a é € 😀'))).toBe(-1);
    expect(firstInvalidUtf8(bytes(0x61, 0xc0, 0x80))).toBe(1); // overlong
    expect(firstInvalidUtf8(bytes(0x61, 0x62, 0xed, 0xa0, 0x80))).toBe(2); // surrogate
    expect(firstInvalidUtf8(bytes(0xf4, 0x90, 0x80, 0x80))).toBe(0); // above U+10FFFF
    expect(firstInvalidUtf8(bytes(0x61, 0xe2, 0x82))).toBe(1); // cut short
    expect(firstInvalidUtf8(bytes(0x80))).toBe(0); // lone continuation
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (b) => {
        let strictOk = true;
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(b);
        } catch {
          strictOk = false;
        }
        expect(firstInvalidUtf8(b) === -1).toBe(strictOk);
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes exactly what a strict decoder accepts, on the ASCII and the UTF-8 paths', () => {
    const strict = (b: Uint8Array) => {
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(b);
      } catch {
        return undefined;
      }
    };
    // Mostly ASCII bytes with some multi-byte starts, continuations and BOM bytes mixed in.
    const byte = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 0x7f }) },
      { weight: 3, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
      { weight: 1, arbitrary: fc.constantFrom(0xef, 0xbb, 0xbf, 0xed, 0xa0, 0xf4, 0x90) },
    );
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 24 }), fc.nat(8), (raw, offset) => {
        // A view into a larger buffer, as Node's pooled Buffers are.
        const backing = new Uint8Array(offset + raw.length);
        backing.set(raw, offset);
        const b = backing.subarray(offset);
        expect(decodeUtf8(b)).toBe(strict(b));
      }),
      { numRuns: 3000 },
    );
    expect(decodeUtf8(bytes(0xef, 0xbb, 0xbf, 0x61))).toBe('a');
    expect(decodeUtf8(utf8('plain ascii'))).toBe('plain ascii');
  });
});

describe('NB-001 JSON syntax', () => {
  it('says a truncated notebook looks truncated, with the line where it ends', () => {
    const raw = fixtureBytes('truncated.ipynb');
    const lines = raw.toString('utf8').split('\n').length;
    const f = only(parse(raw));
    expect(f).toMatchObject({ rule: 'NB-001', location: { pointer: '', line: lines } });
    expect(f.message).toContain('looks truncated');
    expect(f.fix).toContain('complete notebook');
  });

  it.each([
    ['{"a": 1,\n}', 1, 'trailing comma'],
    ['{\n "a": 1\n "b": 2\n}', 3, "expected ',' or '}'"],
    ['{"a": NaN}', 1, 'NaN is not valid JSON'],
    ['{"a": -Infinity}', 1, '-Infinity is not valid JSON'],
    ["{'a': 1}", 1, 'double quotes'],
    ['{"a": "line\nbreak"}', 1, 'raw line break'],
    ['{"a": "\\x"}', 1, 'invalid escape'],
    ['{"a": 01}', 1, 'invalid number'],
    ['{} {}', 1, 'after the end'],
    ['[1, 2,]', 1, 'trailing comma'],
    ['{"a" 1}', 1, "expected ':'"],
  ])('describes %j in words, with line and column', (text, line, words) => {
    const f = only(parse(text));
    expect(f).toMatchObject({ rule: 'NB-001', severity: 'error', location: { pointer: '', line } });
    expect(f.message).toContain(words);
    expect(f.message).toMatch(/line \d+, column \d+/);
    expect(f.message).not.toMatch(/at JSON\.parse|SyntaxError|position \d+/);
  });

  it('reports an empty or blank file as such', () => {
    expect(only(parse('')).message).toContain('empty');
    expect(only(parse(bytes())).message).toContain('empty');
    expect(only(parse(' \n\t')).message).toContain('only whitespace');
  });

  it('recognises git merge-conflict markers', () => {
    const f = only(parse(fixtureBytes('merge-conflict.ipynb')));
    expect(f.message).toContain('merge-conflict marker');
    expect(f.snippet).toBe('<<<<<<< HEAD');
  });

  it('agrees with JSON.parse on what is valid, for damaged notebooks and random text', () => {
    const text = fixtureBytes('valid-4.5.ipynb').toString('utf8');
    const agree = (s: string) => {
      let native = true;
      try {
        JSON.parse(s);
      } catch {
        native = false;
      }
      expect(findSyntaxProblem(s) === undefined, JSON.stringify(s)).toBe(native);
    };
    for (let cut = 0; cut <= text.length; cut++) agree(text.slice(0, cut));
    fc.assert(
      fc.property(fc.nat(text.length - 1), fc.string({ minLength: 1, maxLength: 3 }), (at, insert) =>
        agree(text.slice(0, at) + insert + text.slice(at)),
      ),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'{}[]",:\\ 0-.e1tnul\n'.split('')) }), agree),
      {
        numRuns: 3000,
      },
    );
  });
});

describe('NB-008 duplicate keys', () => {
  it('names the object pointer, the key and both lines', () => {
    const outcome = parse(fixtureBytes('duplicate-keys.ipynb'));
    expect(outcome.ok).toBe(true);
    const f = only(outcome);
    expect(f).toMatchObject({
      rule: 'NB-008',
      severity: 'error',
      location: { pointer: '/cells/1', cell: 1 },
    });
    expect(f.message).toMatch(
      /duplicate key "source" in the object at \/cells\/1: first on line 16, again on line 23/,
    );
    expect(f.fix).toContain('lines 16 and 23');
  });

  it('compares keys after unescaping and ignores equal keys in different objects', () => {
    expect(only(parse('{"a": 1, "\\u0061": 2}')).message).toContain('"a"');
    expect(parse('[{"a": 1}, {"a": 2}, {"b": {"a": 3}, "a": 4}]').findings).toEqual([]);
    expect(parse('{"a": {"a": {"a": 1}}}').findings).toEqual([]);
    const nested = parse('{"x": [{"k": 1}, {"k": {"y": 1, "y": 2}}]}');
    expect(only(nested).location.pointer).toBe('/x/1/k');
  });

  it('is not fooled by braces, quotes and backslashes inside strings', () => {
    const text = '{"a": "}\\"{,\\\\", "a\\\\": "[", "b": "\\\\\\"", "a": 2}';
    expect(JSON.parse(text)).toEqual({ a: 2, 'a\\': '[', b: '\\"' });
    const f = only(parse(text));
    expect(f.message).toContain('duplicate key "a" in the top-level object');
  });

  it('escapes the object pointer (RFC 6901)', () => {
    expect(only(parse('{"a/b": {"c~d": {"k": 1, "k": 2}}}')).location.pointer).toBe('/a~1b/c~0d');
  });
});

describe('the fast byte scan', () => {
  it('calls a text clean exactly when the exact scan finds no duplicate key', () => {
    // JSON from fast-check, serialized by hand so that the n-th object may repeat its first key.
    const serialize = (value: unknown, repeatIn: number): string => {
      let objects = 0;
      const write = (v: unknown): string => {
        if (v === null || typeof v !== 'object') return JSON.stringify(v);
        if (Array.isArray(v)) return `[${v.map(write).join(', ')}]`;
        const entries = Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${write(x)}`);
        if (objects++ === repeatIn && entries.length > 0) entries.push(entries[0]!);
        return `{\n${entries.join(',\n')}\n}`;
      };
      return write(value);
    };
    const hasEscapedKey = (v: unknown): boolean =>
      v !== null &&
      typeof v === 'object' &&
      Object.entries(v).some(([k, x]) => JSON.stringify(k).includes('\\') || hasEscapedKey(x));
    const arbText = fc
      .tuple(
        fc.oneof(
          fc.jsonValue({ maxDepth: 4 }),
          fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { minKeys: 1 }),
        ),
        fc.integer({ min: -1, max: 3 }),
      )
      // Escaped keys always take the exact path.
      .filter(([value]) => !hasEscapedKey(value))
      .map(([value, repeatIn]) => serialize(value, repeatIn));
    let repeated = 0;
    fc.assert(
      fc.property(arbText, (text) => {
        const exact = parse(text);
        expect(exact.ok).toBe(true);
        if (exact.findings.length > 0) repeated++;
        expect(quickScanIsClean(utf8(text), DEFAULT_MAX_DEPTH)).toBe(exact.findings.length === 0);
      }),
      { numRuns: 1000 },
    );
    expect(repeated).toBeGreaterThan(100);
  });

  it('handles large objects (hash index) and non-ASCII keys', () => {
    const big = Object.fromEntries(Array.from({ length: 5000 }, (_, k) => [`k${k}é`, k]));
    const text = JSON.stringify(big);
    expect(quickScanIsClean(utf8(text), DEFAULT_MAX_DEPTH)).toBe(true);
    const repeated = text.replace('"k4999é":4999', '"k4999é":4999,"k17é":1');
    expect(quickScanIsClean(utf8(repeated), DEFAULT_MAX_DEPTH)).toBe(false);
    expect(only(parse(repeated)).message).toContain('"k17é"');
  });
});

describe('NB-011 nesting depth', () => {
  it('refuses 100,000-deep nesting without parsing it or crashing', () => {
    const f = only(parse('['.repeat(100_000) + ']'.repeat(100_000)));
    expect(f).toMatchObject({ rule: 'NB-011', location: { pointer: '' } });
    expect(f.message).toContain(`more than ${DEFAULT_MAX_DEPTH} levels`);
    expect(only(parse('{"a":'.repeat(100_000))).rule).toBe('NB-011'); // deep and truncated
  });

  it('accepts exactly the limit', () => {
    expect(parse('['.repeat(10) + ']'.repeat(10), 10).ok).toBe(true);
    expect(only(parse('['.repeat(11) + ']'.repeat(11), 10)).rule).toBe('NB-011');
    expect(parse('['.repeat(DEFAULT_MAX_DEPTH) + ']'.repeat(DEFAULT_MAX_DEPTH)).ok).toBe(true);
  });
});

describe('never throws', () => {
  it('returns findings for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const outcome = parseNotebook(b, { maxBytes: 1024 });
        if (!outcome.ok) expect(outcome.findings.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('locatePointers', () => {
  const text = '{\n "a": [1, {"b/c": "x", "d~": [true, null]}],\n "e": "\\"q\\"",\n "": {"": 0}\n}';

  it('resolves many pointers to 1-based line and column of their value, omitting missing ones', () => {
    const found = locatePointers(text, [
      '',
      '/a',
      '/a/1',
      '/a/1/b~1c',
      '/a/1/d~0/1',
      '/e',
      '/',
      '//',
      '/zz',
      '/a/5',
      '/a/01',
      'x',
    ]);
    expect(Object.fromEntries(found)).toEqual({
      '': { line: 1, column: 1 },
      '/a': { line: 2, column: 7 },
      '/a/1': { line: 2, column: 11 },
      '/a/1/b~1c': { line: 2, column: 19 },
      '/a/1/d~0/1': { line: 2, column: 37 },
      '/e': { line: 3, column: 7 },
      '/': { line: 4, column: 6 },
      '//': { line: 4, column: 11 },
    });
  });

  it('finds every value of a document at the position where its JSON text starts', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const compact = JSON.stringify(value);
        const pointers = new Map<string, unknown>();
        const walk = (v: unknown, p: string) => {
          pointers.set(p, v);
          if (v && typeof v === 'object')
            for (const [k, child] of Object.entries(v))
              walk(child, `${p}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
        };
        walk(JSON.parse(compact), '');
        const found = locatePointers(compact, pointers.keys());
        expect(found.size).toBe(pointers.size);
        for (const [p, v] of pointers) {
          const pos = found.get(p)!;
          expect(pos.line).toBe(1);
          expect(compact.startsWith(JSON.stringify(v), pos.column - 1), p).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
