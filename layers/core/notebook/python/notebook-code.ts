/**
 * The code of a notebook as the execution and reproducibility rules read it: the kernel's language
 * and, per code cell, the facts those rules need, gathered in one pass that tokenizes each cell
 * once: its syntax problem, shell and magic commands, the calls that can matter (into modules and
 * builtins the rules know about), and string literals that may hold a path or URI.
 *
 * Tokens themselves are not kept: a notebook with 10,000 cells has hundreds of thousands, and
 * keeping them alive until the last family runs made garbage collection the main cost. The result
 * is cached per notebook object, so every family shares one analysis.
 */
import { cellSource, cellsOf, cellType, isRecord, linePointer } from '#core/notebook/notebook';
import {
  analyzeCell,
  type CellAnalysis,
  type CellMagic,
  type LogicalLine,
  lineAt,
  type PySyntaxProblem,
  type PyToken,
} from '#core/notebook/python-syntax';
import type { Location } from '#core/validation/finding';

export interface KernelLanguage {
  python: boolean;
  /** The language as declared, when declared. */
  name?: string;
  /** Pointer of the field that declares a non-Python language. */
  pointer?: string;
}

/** A shell command (`!cmd`, a `%%bash` body line, `%sx cmd`) or a line magic (`%pip install x`). */
export interface Command {
  kind: 'shell' | 'magic';
  /** Magic name for `magic` commands (`pip`, `conda`). */
  name?: string;
  /** The command text without its escape (`pip install x`, or the magic's arguments). */
  text: string;
  /** 1-based line in the cell source. */
  line: number;
}

/** A call (or a bare decorator) whose callee starts with a name the rules care about. */
export interface CallSite {
  /** The callee as written, e.g. `np.random.rand`; resolve it with `resolveName` and the imports. */
  dotted: string;
  line: number;
  /** Inside a function body or a lambda: runs only if called. */
  deferred: boolean;
  /** A decorator without parentheses (`@interact`). */
  bareDecorator: boolean;
  /** `f()` with nothing between the parentheses. */
  noArguments: boolean;
  /** Keyword arguments written in the call: name → value source text (`random_state` → `42`). */
  keywords: Map<string, string>;
  /** The call passes `**kwargs`, so its keyword arguments are not all known. */
  doubleStar: boolean;
}

/** A string literal (not a docstring or other bare string statement) that may hold a path or URI. */
export interface StringLiteral {
  /** Line of the literal's first character. */
  line: number;
  /** The literal as written, prefix and quotes included. */
  text: string;
}

/** What the rules need from a code cell, kept for the whole validation. */
export interface CodeCell {
  index: number;
  /** The raw `source` field (string or list), for line pointers. */
  sourceField: unknown;
  /** The source with newlines normalised to `\n`. */
  source: string;
  /** First syntax problem (EX-003). */
  problem?: PySyntaxProblem;
  /** A cell magic whose body is not Python (`%%bash`): the cell has no Python code. */
  foreignMagic?: CellMagic;
  commands: Command[];
  calls: CallSite[];
  strings: StringLiteral[];
}

export interface NotebookCode {
  language: KernelLanguage;
  /** Code cells whose source is readable, in order. */
  cells: CodeCell[];
  /** Names bound by imports anywhere in the notebook, mapped to the dotted module path. */
  imports: Map<string, string>;
}

/** Conventional aliases, used when the notebook does not bind the name itself. */
export const DEFAULT_ALIASES: Record<string, string> = { np: 'numpy', tf: 'tensorflow', nn: 'torch.nn' };

/**
 * Calls kept for the rules: into these modules (EX-007 interactive calls, REP-002 randomness), to
 * these builtins and conventional names, or to anything named like a seeding helper.
 */
const CALL_MODULES =
  /^(?:random|numpy|torch|tensorflow|keras|sklearn|ipywidgets|getpass|pdb|ipdb|IPython)(?:\.|$)/;
const CALL_HEADS = new Set([
  'np',
  'tf',
  'nn',
  'torch',
  'random',
  'keras',
  'input',
  'getpass',
  'breakpoint',
  'interact',
  'interact_manual',
  'pdb',
  'ipdb',
]);
/** Characters without which a string cannot be a path or URI. */
const PATH_LIKE = /[/\\~]/;

const PYTHON_LANGUAGE = /^python[\d.]*$/i;

export function kernelLanguage(notebook: unknown): KernelLanguage {
  const metadata = isRecord(notebook) && isRecord(notebook.metadata) ? notebook.metadata : {};
  const declared: [string, unknown][] = [
    [
      '/metadata/kernelspec/language',
      isRecord(metadata.kernelspec) ? metadata.kernelspec.language : undefined,
    ],
    [
      '/metadata/language_info/name',
      isRecord(metadata.language_info) ? metadata.language_info.name : undefined,
    ],
  ];
  let name: string | undefined;
  for (const [pointer, value] of declared) {
    if (typeof value !== 'string' || value.trim() === '') continue;
    name ??= value;
    if (!PYTHON_LANGUAGE.test(value.trim())) return { python: false, name: value, pointer };
  }
  return name === undefined ? { python: true } : { python: true, name };
}

const SHELL_CELL_MAGICS = new Set(['bash', 'sh', 'zsh']);

function commandsOf(analysis: CellAnalysis): Command[] {
  const commands: Command[] = [];
  const magic = analysis.foreignMagic;
  if (magic) {
    const shell =
      SHELL_CELL_MAGICS.has(magic.name) || (magic.name === 'script' && /^(ba|z)?sh\b/.test(magic.args));
    if (shell) {
      const lines = analysis.source.split('\n');
      for (let i = magic.line; i < lines.length; i++) {
        const text = lines[i]!.trim();
        if (text !== '' && !text.startsWith('#')) commands.push({ kind: 'shell', text, line: i + 1 });
      }
    }
    return commands;
  }
  for (const t of analysis.tokens) {
    if (t.type !== 'magic') continue;
    const text = t.text.replace(/\\\n/g, ' ');
    if (text.startsWith('!')) {
      commands.push({ kind: 'shell', text: text.replace(/^!!?/, '').trim(), line: t.line });
    } else if (text.startsWith('%')) {
      const m = /^%%?([\w.-]+)\s*(.*)$/s.exec(text);
      if (!m) continue;
      const name = m[1]!;
      const args = m[2]!.trim();
      if (name === 'sx' || name === 'system') commands.push({ kind: 'shell', text: args, line: t.line });
      else commands.push({ kind: 'magic', name, text: args, line: t.line });
    }
  }
  return commands;
}

/** Reads `import a.b as c` / `from a import b as c` statements into name → module path. */
function collectImports(tokens: PyToken[], lines: LogicalLine[], imports: Map<string, string>): void {
  for (const l of lines) {
    if (!l.complete || l.magic) continue;
    const first = tokens[l.start];
    if (first?.type !== 'name' || (first.text !== 'import' && first.text !== 'from')) continue;
    const words: string[] = [];
    for (let i = l.start; i < l.end; i++) {
      const t = tokens[i]!;
      if (t.type === 'op' && t.text === ';') break;
      if (t.text !== '(' && t.text !== ')') words.push(t.text);
    }
    if (first.text === 'import') parseImportNames(words.slice(1), '', imports);
    else {
      const at = words.indexOf('import');
      const module = words.slice(1, at).join('');
      if (at > 1 && !module.startsWith('.')) parseImportNames(words.slice(at + 1), module, imports);
    }
  }
}

function parseImportNames(words: string[], fromModule: string, imports: Map<string, string>): void {
  const groups: string[][] = [[]];
  for (const w of words) {
    if (w === ',') groups.push([]);
    else groups[groups.length - 1]!.push(w);
  }
  for (const g of groups) {
    const as = g.indexOf('as');
    const dotted = (as === -1 ? g : g.slice(0, as)).join('');
    if (!dotted || dotted === '*') continue;
    const full = fromModule ? `${fromModule}.${dotted}` : dotted;
    if (as !== -1 && g[as + 1]) imports.set(g[as + 1]!, full);
    else if (fromModule) imports.set(dotted, full);
    else imports.set(dotted.split('.')[0]!, dotted.split('.')[0]!);
  }
}

/** Index of the `)` closing the `(` at `open` (or `end` when the line was cut short). */
function closeOf(tokens: PyToken[], open: number, end: number): number {
  const depth = tokens[open]!.depth;
  for (let j = open + 1; j < end; j++) {
    const t = tokens[j]!;
    if (t.depth === depth && t.type === 'op' && t.text === ')') return j;
  }
  return end;
}

function callSite(
  tokens: PyToken[],
  start: number,
  chainEnd: number,
  end: number,
  deferred: boolean,
): CallSite {
  let dotted = '';
  for (let j = start; j < chainEnd; j++) dotted += tokens[j]!.text;
  const site: CallSite = {
    dotted,
    line: tokens[start]!.line,
    deferred,
    bareDecorator: chainEnd >= end,
    noArguments: true,
    keywords: new Map(),
    doubleStar: false,
  };
  if (site.bareDecorator) return site;
  const open = chainEnd;
  const close = closeOf(tokens, open, end);
  site.noArguments = close === open + 1;
  const depth = tokens[open]!.depth + 1;
  for (let j = open + 1; j < close; j++) {
    const t = tokens[j]!;
    if (t.depth !== depth) continue;
    const prev = tokens[j - 1]!;
    const atArgumentStart = prev.text === '(' || prev.text === ',';
    if (t.type === 'op' && t.text === '**' && atArgumentStart) site.doubleStar = true;
    if (t.type !== 'name' || !atArgumentStart || tokens[j + 1]?.text !== '=' || tokens[j + 1]?.type !== 'op')
      continue;
    let value = '';
    let k = j + 2;
    for (; k < close; k++) {
      const v = tokens[k]!;
      if (v.depth === depth && v.type === 'op' && v.text === ',') break;
      value += v.text;
    }
    site.keywords.set(t.text, value);
    j = k - 1;
  }
  return site;
}

/** Calls and path-like strings of one cell (see CallSite and StringLiteral). */
function extractCode(
  tokens: PyToken[],
  lines: LogicalLine[],
  imports: Map<string, string>,
  calls: CallSite[],
  strings: StringLiteral[],
): void {
  const defIndents: number[] = [];
  for (const l of lines) {
    while (defIndents.length > 0 && l.indent <= defIndents[defIndents.length - 1]!) defIndents.pop();
    if (l.magic || l.end === l.start) continue;
    const first = tokens[l.start]!;
    const word = first.text === 'async' ? tokens[l.start + 1]?.text : first.text;
    const isDef = first.type === 'name' && word === 'def';
    let deferred = defIndents.length > 0 || isDef;
    const last = tokens[l.end - 1]!;
    if (isDef && last.type === 'op' && last.text === ':') defIndents.push(l.indent);
    const decorator = first.type === 'op' && first.text === '@';

    let onlyStrings = true;
    for (let i = l.start; i < l.end && onlyStrings; i++)
      if (tokens[i]!.type !== 'string') onlyStrings = false;
    if (onlyStrings) continue; // a docstring or other bare string: never used as a value

    for (let i = l.start; i < l.end; i++) {
      const t = tokens[i]!;
      if (t.type === 'string') {
        if (PATH_LIKE.test(t.text)) strings.push({ line: t.line, text: t.text });
        continue;
      }
      if (t.type !== 'name') continue;
      if (t.text === 'lambda') deferred = true;
      const before = tokens[i - 1];
      if (i > l.start && before!.type === 'op' && before!.text === '.') continue;
      if (before?.type === 'name' && (before.text === 'def' || before.text === 'class')) continue;
      let j = i + 1;
      let lastPart = t.text;
      while (
        j + 1 < l.end &&
        tokens[j]!.type === 'op' &&
        tokens[j]!.text === '.' &&
        tokens[j + 1]!.type === 'name'
      ) {
        lastPart = tokens[j + 1]!.text;
        j += 2;
      }
      const next = tokens[j];
      const isCall = j < l.end && next?.type === 'op' && next.text === '(';
      const bareDecorator = decorator && i === l.start + 1 && j === l.end;
      if (!isCall && !bareDecorator) continue;
      const module = imports.get(t.text);
      const kept =
        CALL_HEADS.has(t.text) ||
        (module !== undefined && CALL_MODULES.test(module)) ||
        lastPart.includes('seed');
      if (kept) calls.push(callSite(tokens, i, j, l.end, deferred));
    }
  }
}

const cache = new WeakMap<object, NotebookCode>();

export function notebookCode(notebook: unknown): NotebookCode {
  if (isRecord(notebook)) {
    const cached = cache.get(notebook);
    if (cached) return cached;
  }
  const language = kernelLanguage(notebook);
  const cells: CodeCell[] = [];
  const imports = new Map<string, string>();
  const all = cellsOf(notebook);
  for (let index = 0; index < all.length; index++) {
    const cell = all[index];
    if (cellType(cell) !== 'code') continue;
    const raw = cellSource(cell);
    if (raw === undefined) continue;
    const analysis = analyzeCell(raw);
    // Imports first: a cell usually imports what it then calls.
    if (analysis.source.includes('import')) collectImports(analysis.tokens, analysis.logicalLines, imports);
    // Every property always present: one object shape for all cells keeps the rules' loops fast.
    const code: CodeCell = {
      index,
      sourceField: isRecord(cell) ? cell.source : undefined,
      source: analysis.source,
      problem: analysis.problem,
      foreignMagic: analysis.foreignMagic,
      commands: commandsOf(analysis),
      calls: [],
      strings: [],
    };
    extractCode(analysis.tokens, analysis.logicalLines, imports, code.calls, code.strings);
    cells.push(code);
  }
  const code: NotebookCode = { language, cells, imports };
  if (isRecord(notebook)) cache.set(notebook, code);
  return code;
}

/** `np.random.rand` → `numpy.random.rand` when `np` is bound by an import (or a default alias). */
export function resolveName(
  dotted: string,
  imports: Map<string, string>,
  defaults: Record<string, string> = {},
): string {
  const dot = dotted.indexOf('.');
  const head = dot === -1 ? dotted : dotted.slice(0, dot);
  const module = imports.get(head) ?? defaults[head];
  return module === undefined ? dotted : module + (dot === -1 ? '' : dotted.slice(dot));
}

/** Location of line `line` of a code cell, for findings. */
export function lineLocation(cell: CodeCell, line: number): Location {
  return {
    pointer: linePointer(`/cells/${cell.index}/source`, cell.sourceField, line),
    cell: cell.index,
    line,
  };
}

/** The source line shown with a finding (long lines cut). */
export function lineSnippet(cell: CodeCell, line: number): string | undefined {
  const text = lineAt(cell.source, line);
  if (text === undefined) return undefined;
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
