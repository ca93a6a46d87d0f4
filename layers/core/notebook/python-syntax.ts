/**
 * Python syntax checking for notebook cells, IPython-aware.
 *
 * A cell is first cleaned up the way IPython's input transformer does before running it (leading
 * blank lines, common leading indentation, `>>>` / `In [1]:` prompts), then a cell magic on its
 * first line decides what the body is: `%%time`, `%%capture` and the like run their body as Python
 * (checked, recursively), any other cell magic (`%%bash`, `%%sql`, ...) makes the cell not Python.
 * The rest is tokenized with IPython escapes (`!cmd`, `%magic`, `x = !cmd`, `obj?`) read as single
 * tokens, then checked statement by statement. Line numbers always refer to the original source.
 */
import { checkStructure } from './python/structure';
import { type LogicalLine, type PySyntaxProblem, type PyToken, tokenize } from './python/tokenizer';

export type { LogicalLine, ProblemKind, PySyntaxProblem, PyToken, TokenType } from './python/tokenizer';
export { KEYWORDS, tokenize } from './python/tokenizer';

/** Cell magics whose body IPython runs as Python code. */
const PYTHON_BODY_CELL_MAGICS = new Set([
  'time',
  'timeit',
  'capture',
  'prun',
  'debug',
  'python',
  'python3',
  'pypy',
  'memit',
]);

/** Line magics that IPython's automagic runs without `%` when a one-line cell starts with them. */
const AUTOMAGICS = new Set(
  (
    'alias alias_magic autoawait autocall automagic autosave bookmark cat cd clear colors conda config ' +
    'connect_info cp debug dhist dirs doctest_mode ed edit env gui hist history killbgscripts ldir less lf lk ll ' +
    'load load_ext loadpy logoff logon logstart logstate logstop ls lsmagic lx macro magic mamba man matplotlib ' +
    'micromamba mkdir more mv notebook page pastebin pdb pdef pdoc pfile pinfo pinfo2 pip popd pprint precision ' +
    'prun psearch psource pushd pwd pycat pylab qtconsole quickref recall rehashx reload_ext rep rerun reset ' +
    'reset_selective rm rmdir run save sc set_env store sx system tb time timeit unalias unload_ext uv who ' +
    'who_ls whos xdel xmode'
  ).split(' '),
);

export interface CellMagic {
  /** Name without `%%`, e.g. `bash`. */
  name: string;
  /** Text after the name on the magic's line. */
  args: string;
  /** 1-based line of the `%%name` line in the cell source. */
  line: number;
}

export interface CellAnalysis {
  /** The cell source with newlines normalised to `\n` (line numbers refer to it). */
  source: string;
  /** Set when a cell magic makes the body something other than Python: the body was not tokenized. */
  foreignMagic?: CellMagic;
  /** Python-bodied cell magics (`%%time`, `%%capture`) that wrap the body. */
  pythonMagics: CellMagic[];
  /** Tokens of the Python part (line numbers are the original source's). */
  tokens: PyToken[];
  logicalLines: LogicalLine[];
  /** First syntax problem, with line and column in the original source. */
  problem?: PySyntaxProblem;
}

const CLASSIC_PROMPT = /^(>>>|\.\.\.)( |$)/;
const CLASSIC_INITIAL = /^>>>( |$)/;
const IPYTHON_PROMPT = /^(In \[\d+\]: |\s*\.{3,}: ?)/;
const IPYTHON_INITIAL = /^In \[\d+\]: /;

/** IPython's cleanup transforms, in place from line `from` on; returns the first non-blank line. */
function cleanup(lines: string[], colOffsets: number[], from: number): number {
  let first = from;
  while (first < lines.length && lines[first]!.trim() === '') first++;
  if (first >= lines.length) return first;
  const indent = /^[ \t]+/.exec(lines[first]!)?.[0];
  if (indent) {
    for (let i = first; i < lines.length; i++) {
      if (lines[i]!.startsWith(indent)) {
        lines[i] = lines[i]!.slice(indent.length);
        colOffsets[i]! += indent.length;
      }
    }
  }
  for (const [prompt, initial] of [
    [CLASSIC_PROMPT, CLASSIC_INITIAL],
    [IPYTHON_PROMPT, IPYTHON_INITIAL],
  ] as const) {
    const second = lines[first + 1];
    if (initial.test(lines[first]!) || (second !== undefined && prompt.test(second))) {
      for (let i = first; i < lines.length; i++) {
        const m = prompt.exec(lines[i]!);
        if (m) {
          lines[i] = lines[i]!.slice(m[0].length);
          colOffsets[i]! += m[0].length;
        }
      }
    }
  }
  return first;
}

/** `\r\n` and `\r` newlines as `\n`. */
export function normalizeNewlines(source: string): string {
  return source.includes('\r') ? source.replace(/\r\n?/g, '\n') : source;
}

/** Line `line` (1-based) of `\n`-separated text, without splitting the whole text. */
export function lineAt(text: string, line: number): string | undefined {
  let start = 0;
  for (let i = 1; i < line; i++) {
    const nl = text.indexOf('\n', start);
    if (nl === -1) return undefined;
    start = nl + 1;
  }
  const end = text.indexOf('\n', start);
  return text.slice(start, end === -1 ? text.length : end);
}

const SECOND_LINE_PROMPT = /(?:>>>|\.\.\.)(?: |\n|$)|In \[\d+\]: |[ \t]*\.{3,}:/y;

/** Whether IPython's cleanup (indent, prompts) or a cell magic could change this cell. */
function needsCleanup(text: string): boolean {
  let p = 0;
  let lineStart = 0;
  for (; p < text.length; p++) {
    const c = text.charCodeAt(p);
    if (c === 10) lineStart = p + 1;
    else if (c !== 32 && c !== 9 && c !== 12 && c !== 13) break;
  }
  if (p >= text.length) return false;
  if (p > lineStart) return true; // leading indentation on the first line
  const c = text.charCodeAt(p);
  if (c === 37 /* % */ && text.charCodeAt(p + 1) === 37) return true;
  if (text.startsWith('>>>', p) || text.startsWith('In [', p)) return true;
  const nl = text.indexOf('\n', p);
  if (nl === -1) return false;
  SECOND_LINE_PROMPT.lastIndex = nl + 1;
  return SECOND_LINE_PROMPT.test(text);
}

/**
 * Analyses one code cell as IPython would run it: cleanup, cell magics, then Python tokens and the
 * first syntax problem.
 */
export function analyzeCell(rawSource: string): CellAnalysis {
  const source = normalizeNewlines(rawSource);
  const pythonMagics: CellMagic[] = [];
  let python = source;
  let colOffsets: number[] | undefined;
  if (needsCleanup(source)) {
    const lines = source.split('\n');
    colOffsets = new Array<number>(lines.length).fill(0);
    let from = 0;
    for (;;) {
      const first = cleanup(lines, colOffsets, from);
      const text = lines[first];
      if (text === undefined || !text.startsWith('%%')) break;
      const m = /^%%(\S*)\s*(.*)$/.exec(text)!;
      const magic: CellMagic = { name: m[1]!, args: m[2]!, line: first + 1 };
      if (!PYTHON_BODY_CELL_MAGICS.has(magic.name)) {
        return {
          source,
          pythonMagics,
          tokens: [],
          logicalLines: [],
          problem: undefined,
          foreignMagic: magic,
        };
      }
      pythonMagics.push(magic);
      for (let i = from; i <= first; i++) lines[i] = '';
      from = first + 1;
    }
    python = lines.join('\n');
  }
  const result = tokenize(python, { ipython: true });
  let problem = checkStructure(result);
  let tokens = result.tokens;
  let logicalLines = result.lines;
  if (problem) {
    const automagic = automagicLine(python.split('\n'));
    if (automagic) {
      problem = undefined;
      const col = (colOffsets?.[automagic.index] ?? 0) + automagic.col;
      tokens = [{ type: 'magic', text: `%${automagic.text}`, line: automagic.index + 1, col, depth: 0 }];
      logicalLines = [
        { start: 0, end: 1, line: automagic.index + 1, indent: 0, altIndent: 0, complete: true, magic: true },
      ];
    } else {
      problem = { ...problem, col: problem.col + (colOffsets?.[problem.line - 1] ?? 0) };
    }
  }
  return { source, pythonMagics, tokens, logicalLines, problem, foreignMagic: undefined };
}

/** A one-line cell such as `pip install x` that IPython's automagic runs as `%pip install x`. */
function automagicLine(lines: string[]): { index: number; col: number; text: string } | undefined {
  let index = -1;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() === '') continue;
    if (index !== -1) return undefined;
    index = i;
  }
  if (index === -1) return undefined;
  const line = lines[index]!;
  const m = /^(\s*)([A-Za-z_]\w*)\s+(\S.*)$/.exec(line);
  if (!m || !AUTOMAGICS.has(m[2]!) || /^[=,]/.test(m[3]!)) return undefined;
  return { index, col: m[1]!.length + 1, text: line.trim() };
}

/**
 * First syntax problem in `source`, or undefined when it parses. With `ipython` (the default) the
 * source is treated as a notebook cell (magics, shell escapes, help); without, as plain Python.
 */
export function checkPythonSyntax(
  source: string,
  options: { ipython?: boolean } = {},
): PySyntaxProblem | undefined {
  if (options.ipython === false) return checkStructure(tokenize(normalizeNewlines(source)));
  return analyzeCell(source).problem;
}
