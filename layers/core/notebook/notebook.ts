/**
 * nbformat 4 shapes and tolerant accessors. The validator sees untrusted JSON, so accessors never
 * assume the structure is valid: they return undefined where a field is missing or mistyped, and
 * the structure rules (NB-*) report the problem.
 */
export type MultilineString = string | string[];

export interface NotebookCell {
  id?: string;
  cell_type: 'code' | 'markdown' | 'raw';
  metadata: Record<string, unknown> & { tags?: string[] };
  source: MultilineString;
  outputs?: NotebookOutput[];
  execution_count?: number | null;
  attachments?: Record<string, Record<string, MultilineString>>;
}

export type NotebookOutput =
  | { output_type: 'stream'; name: 'stdout' | 'stderr'; text: MultilineString }
  | { output_type: 'display_data'; data: Record<string, unknown>; metadata: Record<string, unknown> }
  | {
      output_type: 'execute_result';
      data: Record<string, unknown>;
      metadata: Record<string, unknown>;
      execution_count: number | null;
    }
  | { output_type: 'error'; ename: string; evalue: string; traceback: string[] };

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: NotebookCell[];
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Joins an nbformat multiline field; undefined when it is neither a string nor a list of strings. */
export function multiline(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((s) => typeof s === 'string')) return value.join('');
  return undefined;
}

/** The cells array when present and an array, else an empty list. */
export function cellsOf(notebook: unknown): unknown[] {
  return isRecord(notebook) && Array.isArray(notebook.cells) ? notebook.cells : [];
}

/** The cell's joined source, or undefined when malformed. */
export function cellSource(cell: unknown): string | undefined {
  return isRecord(cell) ? multiline(cell.source) : undefined;
}

export function cellType(cell: unknown): string | undefined {
  return isRecord(cell) && typeof cell.cell_type === 'string' ? cell.cell_type : undefined;
}

export function cellTags(cell: unknown): string[] {
  if (!isRecord(cell) || !isRecord(cell.metadata) || !Array.isArray(cell.metadata.tags)) return [];
  return cell.metadata.tags.filter((t): t is string => typeof t === 'string');
}

/** Outputs of a code cell that are objects (malformed entries are NB findings, skipped here). */
export function cellOutputs(cell: unknown): Record<string, unknown>[] {
  if (!isRecord(cell) || !Array.isArray(cell.outputs)) return [];
  return cell.outputs.filter(isRecord);
}

/**
 * JSON pointer to line `line` (1-based) of a multiline field: with list form each element is one
 * line (`/cells/2/source/4`), with string form the pointer names the field itself.
 */
export function linePointer(fieldPointer: string, field: unknown, line: number): string {
  return Array.isArray(field) ? `${fieldPointer}/${line - 1}` : fieldPointer;
}

/** Escapes a JSON pointer reference token (RFC 6901). */
export function pointerToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}
