/**
 * The papermill `parameters` cell: nbops injects manifest parameters right after it, so every
 * manifest parameter must be a name that cell assigns (papermill itself only logs "Passed unknown
 * parameter" and runs on with the notebook's own value).
 */
import { cellsOf, cellTags, cellType } from './notebook';
import { KEYWORDS } from './python/tokenizer';

/** Index of the first code cell tagged `parameters` (the one papermill uses), if any. */
export function parametersCellIndex(notebook: unknown): number | undefined {
  const index = cellsOf(notebook).findIndex(
    (cell) => cellType(cell) === 'code' && cellTags(cell).includes('parameters'),
  );
  return index === -1 ? undefined : index;
}

/** `name =`, `name: type =` at the start of a statement (not `==`). */
const ASSIGNMENT = /^([\p{L}_][\p{L}\p{N}_]*)[ \t]*(?::[^=\n]*)?=(?!=)/u;
/** Further targets of a chained assignment: `a = b = 1`. */
const CHAINED = /^[ \t]*([\p{L}_][\p{L}\p{N}_]*)[ \t]*=(?!=)/u;

/**
 * Names assigned at the top level of `source` (a Python cell), with the 1-based line of their
 * last assignment: `epochs = 10`, `lr: float = 0.1`, `a = b = 0`. Indented lines, comments,
 * lines inside brackets or triple-quoted strings, and tuple targets are not top-level assignments.
 */
export function assignedNames(source: string): Map<string, { line: number }> {
  const names = new Map<string, { line: number }>();
  const state: ScanState = { depth: 0, triple: undefined, continued: false };
  const lines = source.split(/\r?\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const atStatementStart = state.depth === 0 && state.triple === undefined && !state.continued;
    if (atStatementStart) {
      const match = ASSIGNMENT.exec(line);
      if (match && !KEYWORDS.has(match[1]!)) {
        names.set(match[1]!, { line: i + 1 });
        let rest = line.slice(match[0].length);
        for (let next = CHAINED.exec(rest); next; next = CHAINED.exec(rest)) {
          if (KEYWORDS.has(next[1]!)) break;
          names.set(next[1]!, { line: i + 1 });
          rest = rest.slice(next[0].length);
        }
      }
    }
    scanLine(line, state);
  }
  return names;
}

interface ScanState {
  /** Open brackets: lines inside them continue a statement. */
  depth: number;
  /** The open triple quote, while inside a triple-quoted string. */
  triple: '"""' | "'''" | undefined;
  /** The line ended with a backslash. */
  continued: boolean;
}

/** Advances the bracket / string state over one line (comments and single-line strings skipped). */
function scanLine(line: string, state: ScanState): void {
  state.continued = false;
  let i = 0;
  while (i < line.length) {
    if (state.triple) {
      const end = line.indexOf(state.triple, i);
      if (end === -1) return;
      i = end + 3;
      state.triple = undefined;
      continue;
    }
    const ch = line[i]!;
    if (ch === '#') return;
    if (ch === '"' || ch === "'") {
      const triple = line.startsWith(ch.repeat(3), i);
      if (triple) {
        state.triple = ch === '"' ? '"""' : "'''";
        i += 3;
        continue;
      }
      i++;
      while (i < line.length && line[i] !== ch) i += line[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') state.depth++;
    else if ((ch === ')' || ch === ']' || ch === '}') && state.depth > 0) state.depth--;
    i++;
  }
  if (line.endsWith('\\') && state.triple === undefined) state.continued = true;
}
