/**
 * The nbformat 4.0-4.5 rules, written as code that dispatches on cell_type and output_type so each
 * problem yields one finding that names the field and says what to change (a JSON Schema oneOf
 * would report every branch). Mirrors nbformat's schemas and validator.py, including its relaxed
 * check for notebooks from a newer minor version. Reads only; never mutates the notebook.
 */
import { pointerToken } from '#core/notebook/notebook';
import type { Location, Report } from '../finding';
import { describe, isJsonMime, isSingleLineKey, listWords, quote } from './values';

/** The newest minor version whose schema nbops knows; newer minors get the relaxed 4.5 check. */
export const NEWEST_MINOR = 5;

const TOP_LEVEL_KEYS = ['metadata', 'nbformat_minor', 'nbformat', 'cells'] as const;
const TOP_LEVEL_DEFAULTS: Record<string, string> = {
  metadata: '"metadata": {}',
  nbformat_minor: '"nbformat_minor": 5',
  nbformat: '"nbformat": 4',
  cells: '"cells": []',
};

type CellType = 'code' | 'markdown' | 'raw';

type OutputType = 'stream' | 'display_data' | 'execute_result' | 'error';
const OUTPUT_FIELDS: Record<OutputType, Record<string, string>> = {
  stream: { name: '"stdout"', text: '""' },
  display_data: { data: '{}', metadata: '{}' },
  execute_result: { data: '{}', metadata: '{}', execution_count: 'null' },
  error: { ename: '""', evalue: '""', traceback: '[]' },
};

/** Names nbformat 3 used, so a converted-by-hand notebook gets a precise hint. */
const V3_HINTS: Record<string, string> = {
  prompt_number: 'nbformat 3 name for "execution_count"',
  input: 'nbformat 3 name for "source"',
  language: 'an nbformat 3 field',
  level: 'an nbformat 3 heading-cell field',
  collapsed: 'belongs in the cell metadata since nbformat 4',
  pyout: 'nbformat 3 name for "execute_result"',
  pyerr: 'nbformat 3 name for "error"',
  heading: 'nbformat 3 cell type; use a markdown cell with "#" headings',
};

// Hot predicates stay in this module: cross-module calls go through live-binding getters in
// some loaders (tsx, vitest), which costs more than the checks themselves.
const hasOwn = (o: object, key: string): boolean => Object.hasOwn(o, key);
/** JSON Schema "integer" as nbformat checks it: a whole number, never a boolean. */
const isInteger = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
/** nbformat's cell id pattern (length 1-64 is checked separately). */
const CELL_ID_PATTERN = /^[a-zA-Z0-9\-_]+$/;
/** JSON Schema "object": arrays and null are not objects. */
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

interface Scope {
  report: Report;
  /** Schema minor the typing rules follow: the declared minor, capped at 5; 5 when unknown. */
  minor: number;
  /** The declared nbformat_minor when it is a valid integer (the id rules depend on it). */
  declaredMinor: number | undefined;
  /** nbformat_minor above 5: like nbformat, accept extra keys and unknown cell/output types. */
  relaxed: boolean;
}

export function checkNotebook(notebook: unknown, report: Report): void {
  if (!isObject(notebook)) {
    const what = Array.isArray(notebook)
      ? 'a JSON array'
      : notebook === null
        ? 'null'
        : `a JSON ${typeof notebook === 'number' ? 'number' : typeof notebook}`;
    report({
      rule: 'NB-001',
      message: `notebook must be a JSON object with metadata, nbformat, nbformat_minor and cells; this file is ${what}.`,
      location: { pointer: '' },
      fix: 'Upload the .ipynb file saved by Jupyter (a JSON object), not an export or a fragment of it.',
    });
    return;
  }

  // The major version decides everything else: nbformat 3 files have other keys (worksheets).
  if (hasOwn(notebook, 'nbformat')) {
    const major = notebook.nbformat;
    if (!isInteger(major)) {
      report({
        rule: 'NB-001',
        message: `nbformat must be the integer 4, found ${describe(major)}.`,
        location: { pointer: '/nbformat' },
        fix: 'Set "nbformat": 4 (a number, not a string).',
      });
    } else if (major < 4) {
      report({
        rule: 'NB-001',
        message: `notebook is nbformat ${major}; nbops reads nbformat 4 notebooks only, so no other structure rule was checked.`,
        location: { pointer: '/nbformat' },
        fix: 'Convert it: `jupyter nbconvert --to notebook --nbformat 4 in.ipynb` (or open and save it in Jupyter).',
      });
      return;
    } else if (major > 4) {
      report({
        rule: 'NB-001',
        message: `notebook declares nbformat ${major}; nbops knows nbformat 4 only, so no other structure rule was checked.`,
        location: { pointer: '/nbformat' },
        fix: 'Save the notebook as nbformat 4 (the format every current Jupyter writes).',
      });
      return;
    }
  }

  let declaredMinor: number | undefined;
  if (hasOwn(notebook, 'nbformat_minor')) {
    const minor = notebook.nbformat_minor;
    if (isInteger(minor) && minor >= 0) declaredMinor = minor;
    else
      report({
        rule: 'NB-001',
        message: `nbformat_minor must be a non-negative integer (0 to ${NEWEST_MINOR}), found ${describe(minor)}.`,
        location: { pointer: '/nbformat_minor' },
        fix: `Set "nbformat_minor": ${NEWEST_MINOR} (and give every cell an id), or the minor version the notebook was written with.`,
      });
  }
  const relaxed = declaredMinor !== undefined && declaredMinor > NEWEST_MINOR;
  if (relaxed) {
    report({
      rule: 'NB-001',
      severity: 'info',
      message:
        `nbformat_minor ${declaredMinor} is newer than 4.${NEWEST_MINOR}, the newest version nbops knows: validated with ` +
        `the 4.${NEWEST_MINOR} rules relaxed as nbformat does (extra keys and unknown cell or output types accepted).`,
      location: { pointer: '/nbformat_minor' },
      fix: `No change needed. For the full check, save the notebook as nbformat 4.${NEWEST_MINOR}.`,
    });
  }
  const scope: Scope = {
    report,
    minor: declaredMinor === undefined ? NEWEST_MINOR : Math.min(declaredMinor, NEWEST_MINOR),
    declaredMinor,
    relaxed,
  };

  for (const key of TOP_LEVEL_KEYS) {
    if (hasOwn(notebook, key)) continue;
    report({
      rule: 'NB-001',
      message: `notebook has no top-level "${key}".`,
      location: { pointer: '' },
      fix: `Add ${TOP_LEVEL_DEFAULTS[key]} at the top level of the notebook.`,
    });
  }
  if (!relaxed) {
    for (const key of Object.keys(notebook)) {
      if ((TOP_LEVEL_KEYS as readonly string[]).includes(key)) continue;
      report({
        rule: 'NB-001',
        message: `notebook has an unknown top-level key ${quote(key)}; only metadata, nbformat, nbformat_minor and cells are allowed${key === 'worksheets' ? ' ("worksheets" is nbformat 3)' : ''}.`,
        location: { pointer: `/${pointerToken(key)}` },
        fix: `Remove ${quote(key)} from the top level, or move its content into "metadata".`,
      });
    }
  }

  if (hasOwn(notebook, 'metadata')) {
    if (isObject(notebook.metadata)) checkNotebookMetadata(scope, notebook.metadata);
    else
      report({
        rule: 'NB-001',
        message: `notebook metadata must be an object, found ${describe(notebook.metadata)}.`,
        location: { pointer: '/metadata' },
        fix: 'Set "metadata" to an object, e.g. {"kernelspec": {"name": "python3", "display_name": "Python 3"}}.',
      });
  }

  if (hasOwn(notebook, 'cells')) {
    const cells = notebook.cells;
    if (!Array.isArray(cells)) {
      report({
        rule: 'NB-001',
        message: `"cells" must be a list of cells, found ${describe(cells)}.`,
        location: { pointer: '/cells' },
        fix: 'Set "cells" to a list of cell objects (an empty list is valid).',
      });
    } else {
      for (let i = 0; i < cells.length; i++) checkCell(scope, cells[i], i);
      checkDuplicateIds(scope, cells);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Notebook metadata

const KERNELSPEC_EXAMPLE = '{"name": "python3", "display_name": "Python 3", "language": "python"}';

function checkNotebookMetadata(s: Scope, meta: Record<string, unknown>): void {
  const { report } = s;
  if (!hasOwn(meta, 'kernelspec')) {
    report({
      rule: 'NB-006',
      severity: 'warning',
      message:
        'notebook metadata has no kernelspec, so nbops cannot tell which kernel runs it (its runtime executes Python).',
      location: { pointer: '/metadata' },
      fix: `Add "kernelspec": ${KERNELSPEC_EXAMPLE} to the notebook metadata (saving from Jupyter with a kernel selected does this).`,
    });
  } else {
    const ks = meta.kernelspec;
    if (!isObject(ks)) {
      report({
        rule: 'NB-006',
        message: `metadata.kernelspec must be an object, found ${describe(ks)}.`,
        location: { pointer: '/metadata/kernelspec' },
        fix: `Set metadata.kernelspec to ${KERNELSPEC_EXAMPLE}.`,
      });
    } else {
      for (const key of ['name', 'display_name']) {
        if (!hasOwn(ks, key)) {
          report({
            rule: 'NB-006',
            message: `metadata.kernelspec has no "${key}".`,
            location: { pointer: '/metadata/kernelspec' },
            fix: `Add "${key}" to metadata.kernelspec, e.g. ${KERNELSPEC_EXAMPLE}.`,
          });
        } else if (typeof ks[key] !== 'string') {
          report({
            rule: 'NB-006',
            message: `metadata.kernelspec.${key} must be a string, found ${describe(ks[key])}.`,
            location: { pointer: `/metadata/kernelspec/${key}` },
            fix: `Set metadata.kernelspec.${key} to a string such as "${key === 'name' ? 'python3' : 'Python 3'}".`,
          });
        }
      }
    }
  }

  if (hasOwn(meta, 'language_info')) {
    const li = meta.language_info;
    if (!isObject(li)) {
      report({
        rule: 'NB-006',
        message: `metadata.language_info must be an object, found ${describe(li)}.`,
        location: { pointer: '/metadata/language_info' },
        fix: 'Set metadata.language_info to an object such as {"name": "python"}, or remove it.',
      });
    } else {
      if (!hasOwn(li, 'name')) {
        report({
          rule: 'NB-006',
          message: 'metadata.language_info has no "name".',
          location: { pointer: '/metadata/language_info' },
          fix: 'Add "name" (the language, e.g. "python") to metadata.language_info.',
        });
      } else if (typeof li.name !== 'string') {
        report({
          rule: 'NB-006',
          message: `metadata.language_info.name must be a string, found ${describe(li.name)}.`,
          location: { pointer: '/metadata/language_info/name' },
          fix: 'Set metadata.language_info.name to the language as a string, e.g. "python".',
        });
      }
      for (const key of ['file_extension', 'mimetype', 'pygments_lexer']) {
        if (hasOwn(li, key) && typeof li[key] !== 'string')
          typeError(
            s,
            `/metadata/language_info/${key}`,
            undefined,
            `metadata.language_info.${key}`,
            'a string',
            li[key],
          );
      }
      if (
        hasOwn(li, 'codemirror_mode') &&
        typeof li.codemirror_mode !== 'string' &&
        !isObject(li.codemirror_mode)
      )
        typeError(
          s,
          '/metadata/language_info/codemirror_mode',
          undefined,
          'metadata.language_info.codemirror_mode',
          'a string or an object',
          li.codemirror_mode,
        );
    }
  }

  if (hasOwn(meta, 'orig_nbformat')) {
    const min = s.minor === 0 ? 0 : 1;
    const v = meta.orig_nbformat;
    if (!isInteger(v) || v < min)
      typeError(s, '/metadata/orig_nbformat', undefined, 'metadata.orig_nbformat', `an integer >= ${min}`, v);
  }
  if (s.minor >= 2) {
    if (hasOwn(meta, 'title') && typeof meta.title !== 'string')
      typeError(s, '/metadata/title', undefined, 'metadata.title', 'a string', meta.title);
    if (hasOwn(meta, 'authors') && !Array.isArray(meta.authors))
      typeError(s, '/metadata/authors', undefined, 'metadata.authors', 'a list', meta.authors);
  }

  if (hasOwn(meta, 'widgets')) checkWidgets(report, meta.widgets);
}

function checkWidgets(report: Report, widgets: unknown): void {
  const fix =
    'Remove metadata.widgets (nbstripout does) or save the widget state with the notebook ' +
    '(Jupyter: Settings > "Save Widget State Automatically").';
  if (!isObject(widgets)) {
    report({
      rule: 'NB-007',
      message: `metadata.widgets must be an object keyed by mime type, found ${describe(widgets)}; renderers fail on it.`,
      location: { pointer: '/metadata/widgets' },
      fix,
    });
    return;
  }
  for (const [key, entry] of Object.entries(widgets)) {
    if (isObject(entry) && hasOwn(entry, 'state')) continue;
    report({
      rule: 'NB-007',
      message: `metadata.widgets[${quote(key)}] has no "state"; GitHub, nbviewer and nbconvert fail to render such notebooks.`,
      location: { pointer: `/metadata/widgets/${pointerToken(key)}` },
      fix,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Cells and outputs. These run once per cell and output (50,000 outputs in the performance
// target), so the happy path allocates nothing: pointers and messages are built only when a
// problem is reported.

function cellLocation(pointer: string, cell: number | undefined): Location {
  return cell === undefined ? { pointer } : { pointer, cell };
}

/** Reports a field of the wrong type (NB-004 unless told otherwise). */
function typeError(
  s: Scope,
  pointer: string,
  cell: number | undefined,
  field: string,
  expected: string,
  found: unknown,
  rule = 'NB-004',
): void {
  s.report({
    rule,
    message: `${field} must be ${expected}, found ${describe(found)}.`,
    location: cellLocation(pointer, cell),
    fix: `Change ${field} to ${expected}.`,
  });
}

/** nbformat multiline fields (source, stream text, mime values): a string or a list of strings. */
function isMultiline(v: unknown): boolean {
  if (typeof v === 'string') return true;
  if (!Array.isArray(v)) return false;
  for (let k = 0; k < v.length; k++) if (typeof v[k] !== 'string') return false;
  return true;
}

function reportMultiline(
  s: Scope,
  value: unknown,
  pointer: string,
  cell: number | undefined,
  field: string,
): void {
  if (!Array.isArray(value)) {
    typeError(s, pointer, cell, field, 'a string or a list of strings', value);
    return;
  }
  const k = value.findIndex((line) => typeof line !== 'string');
  s.report({
    rule: 'NB-004',
    message: `${field}[${k}] is ${describe(value[k])}; each line of ${field} must be a string.`,
    location: cellLocation(`${pointer}/${k}`, cell),
    fix: `Make ${field} a list of strings (one per line, each ending in "\\n" except the last) or a single string.`,
  });
}

interface CellSpec {
  /** Required fields (id aside) with the value a fix suggests when one is missing. */
  required: readonly (readonly [string, string])[];
  allowed: ReadonlySet<string>;
}

function cellSpec(required: Record<string, string>, optional: string[]): CellSpec {
  return {
    required: Object.entries(required),
    allowed: new Set([...optional, ...Object.keys(required)]),
  };
}

const CELL_SPECS: Record<CellType, CellSpec> = {
  code: cellSpec({ metadata: '{}', source: '""', outputs: '[]', execution_count: 'null' }, [
    'id',
    'cell_type',
  ]),
  markdown: cellSpec({ metadata: '{}', source: '""' }, ['id', 'cell_type', 'attachments']),
  raw: cellSpec({ metadata: '{}', source: '""' }, ['id', 'cell_type', 'attachments']),
};

function checkCell(s: Scope, cell: unknown, i: number): void {
  if (!isObject(cell)) {
    s.report({
      rule: 'NB-004',
      message: `cell ${i} must be an object, found ${describe(cell)}.`,
      location: { pointer: `/cells/${i}`, cell: i },
      fix: `Replace cell ${i} with a cell object ({"cell_type": "markdown", "metadata": {}, "source": ""} at minimum) or remove it.`,
    });
    return;
  }

  const type = cell.cell_type;
  if (type === undefined) {
    s.report({
      rule: 'NB-004',
      message: `cell ${i} has no cell_type.`,
      location: { pointer: `/cells/${i}`, cell: i },
      fix: `Add "cell_type": "code", "markdown" or "raw" to cell ${i}.`,
    });
    checkCellId(s, cell, i, false);
    return;
  }
  if (type !== 'code' && type !== 'markdown' && type !== 'raw') {
    if (s.relaxed) {
      // nbformat's "unrecognized_cell": only metadata (with typed name and tags) is required.
      if (cell.metadata === undefined)
        s.report({
          rule: 'NB-004',
          message: `cell ${i} has no "metadata".`,
          location: { pointer: `/cells/${i}`, cell: i },
          fix: `Add "metadata": {} to cell ${i}.`,
        });
      else checkCellMetadata(s, cell.metadata, i, undefined);
      checkCellId(s, cell, i, true);
      return;
    }
    const hint = typeof type === 'string' && V3_HINTS[type] ? ` ("${type}" is the ${V3_HINTS[type]})` : '';
    s.report({
      rule: 'NB-004',
      message: `cell ${i} has unknown cell_type ${describe(type)}${hint}; it must be "code", "markdown" or "raw".`,
      location: { pointer: `/cells/${i}/cell_type`, cell: i },
      fix: `Set cell_type of cell ${i} to "code", "markdown" or "raw".`,
    });
    checkCellId(s, cell, i, false);
    return;
  }

  checkCellId(s, cell, i, false);
  const spec = CELL_SPECS[type];
  for (const [key, example] of spec.required) {
    if (cell[key] === undefined)
      s.report({
        rule: 'NB-004',
        message: `cell ${i} (${type}) has no "${key}".`,
        location: { pointer: `/cells/${i}`, cell: i },
        fix: `Add "${key}": ${example} to cell ${i}.`,
      });
  }
  if (!s.relaxed) {
    for (const key in cell) {
      if (!spec.allowed.has(key)) reportExtraCellKey(s, type, key, i);
    }
  }

  if (cell.metadata !== undefined) checkCellMetadata(s, cell.metadata, i, type);
  if (cell.source !== undefined && !isMultiline(cell.source))
    reportMultiline(s, cell.source, `/cells/${i}/source`, i, `the source of cell ${i}`);

  if (type === 'code') {
    const count = cell.execution_count;
    if (count !== undefined && !isExecutionCount(count))
      reportExecutionCount(s, count, `/cells/${i}/execution_count`, i, `execution_count of cell ${i}`);
    const outputs = cell.outputs;
    if (outputs !== undefined) {
      if (!Array.isArray(outputs))
        typeError(s, `/cells/${i}/outputs`, i, `outputs of cell ${i}`, 'a list (use [] for none)', outputs);
      else for (let j = 0; j < outputs.length; j++) checkOutput(s, outputs[j], i, j);
    }
  } else if (cell.attachments !== undefined) {
    checkAttachments(s, cell.attachments, i);
  }
}

function reportExtraCellKey(s: Scope, type: CellType, key: string, i: number): void {
  let hint = '';
  if (key === 'attachments' && type === 'code') hint = ' (only markdown and raw cells have attachments)';
  else if ((key === 'outputs' || key === 'execution_count') && type !== 'code')
    hint = ` (only code cells have ${key}; is cell_type wrong?)`;
  else if (V3_HINTS[key]) hint = ` ("${key}" is the ${V3_HINTS[key]})`;
  s.report({
    rule: 'NB-004',
    message: `cell ${i} (${type}) has an unknown key ${quote(key)}${hint}.`,
    location: { pointer: `/cells/${i}/${pointerToken(key)}`, cell: i },
    fix: `Remove ${quote(key)} from cell ${i}; ${type} cells have only ${listWords([...CELL_SPECS[type].allowed])} (custom data belongs in the cell metadata).`,
  });
}

const isExecutionCount = (v: unknown): boolean => v === null || (isInteger(v) && v >= 0);

function reportExecutionCount(s: Scope, v: unknown, pointer: string, cell: number, field: string): void {
  s.report({
    rule: 'NB-004',
    message: `${field} must be a non-negative integer or null, found ${describe(v)}.`,
    location: { pointer, cell },
    fix: `Set ${field} to null (not run) or to the prompt number, a whole number >= 0.`,
  });
}

function checkCellId(s: Scope, cell: Record<string, unknown>, i: number, idOptional: boolean): void {
  const { declaredMinor } = s;
  const id = cell.id;
  if (id === undefined) {
    if (declaredMinor !== undefined && declaredMinor >= 5 && !idOptional) {
      s.report({
        rule: 'NB-002',
        message: `cell ${i} has no id; from nbformat 4.5 (this notebook declares nbformat_minor ${declaredMinor}) every cell needs one.`,
        location: { pointer: `/cells/${i}`, cell: i },
        fix: `Give cell ${i} a unique "id" (letters, digits, "-" or "_"; saving in JupyterLab adds missing ids), or set nbformat_minor to 4 if the notebook must not carry ids.`,
      });
    }
    return;
  }
  if (declaredMinor !== undefined && declaredMinor < 5) {
    s.report({
      rule: 'NB-002',
      message: `cell ${i} has an id, but cell ids exist only from nbformat 4.5 and this notebook declares nbformat_minor ${declaredMinor}.`,
      location: { pointer: `/cells/${i}/id`, cell: i },
      fix: 'Set nbformat_minor to 5 (and give every cell a unique id), or remove the id fields.',
    });
  }
  if (typeof id === 'string' && id.length <= 64 && CELL_ID_PATTERN.test(id)) return;
  let problem: string;
  if (typeof id !== 'string') problem = `must be a string, found ${describe(id)}`;
  else if (id.length === 0) problem = 'is empty';
  else if (id.length > 64) problem = `is ${id.length} characters long; at most 64 are allowed`;
  else {
    const bad = [...id].find((ch) => !CELL_ID_PATTERN.test(ch)) ?? '';
    problem = `${quote(id)} contains ${JSON.stringify(bad)}; only letters, digits, "-" and "_" are allowed`;
  }
  s.report({
    rule: 'NB-003',
    message: `the id of cell ${i} ${problem}.`,
    location: { pointer: `/cells/${i}/id`, cell: i },
    fix: `Set the id of cell ${i} to 1-64 letters, digits, "-" or "_", unique in the notebook (e.g. "cell-${i}").`,
  });
}

/** nbformat checks uniqueness in code (JSON Schema cannot); it renames duplicates, nbops reports them. */
function checkDuplicateIds(s: Scope, cells: unknown[]): void {
  const firstIndex = new Map<string, number>();
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (!isObject(cell) || typeof cell.id !== 'string') continue;
    const first = firstIndex.get(cell.id);
    if (first === undefined) {
      firstIndex.set(cell.id, i);
      continue;
    }
    s.report({
      rule: 'NB-003',
      message: `the id ${quote(cell.id)} of cell ${i} is already used by cell ${first}; cell ids must be unique.`,
      location: { pointer: `/cells/${i}/id`, cell: i },
      fix: `Give cell ${i} a new unique id. (nbformat would silently rename it; nbops never rewrites a notebook.)`,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Cell metadata

const metaField = (i: number, key: string) => `metadata.${key} of cell ${i}`;
const metaPointer = (i: number, key: string) => `/cells/${i}/metadata/${key}`;

/** Checks cell metadata; `cellType` undefined means an unrecognized cell of a newer minor version. */
function checkCellMetadata(s: Scope, meta: unknown, i: number, cellType: CellType | undefined): void {
  if (!isObject(meta)) {
    typeError(s, `/cells/${i}/metadata`, i, `the metadata of cell ${i}`, 'an object', meta);
    return;
  }
  const name = meta.name;
  // Schema pattern ^.+$ as nbformat applies it: non-empty, no line break.
  if (name !== undefined && (typeof name !== 'string' || name.length === 0 || name.includes('\n')))
    typeError(s, metaPointer(i, 'name'), i, metaField(i, 'name'), 'a non-empty single-line string', name);
  if (meta.tags !== undefined) checkTags(s, meta.tags, i);
  if (cellType === undefined) return;

  if (s.minor >= 3 && meta.jupyter !== undefined && !isObject(meta.jupyter))
    typeError(s, metaPointer(i, 'jupyter'), i, metaField(i, 'jupyter'), 'an object', meta.jupyter);

  if (cellType === 'raw' && meta.format !== undefined && typeof meta.format !== 'string')
    typeError(
      s,
      metaPointer(i, 'format'),
      i,
      metaField(i, 'format'),
      'a string (a mime type such as "text/latex")',
      meta.format,
    );

  if (cellType === 'code') {
    if (meta.collapsed !== undefined && typeof meta.collapsed !== 'boolean')
      typeError(
        s,
        metaPointer(i, 'collapsed'),
        i,
        metaField(i, 'collapsed'),
        'true or false',
        meta.collapsed,
      );
    const scrolled = meta.scrolled;
    if (scrolled !== undefined && scrolled !== true && scrolled !== false && scrolled !== 'auto')
      typeError(
        s,
        metaPointer(i, 'scrolled'),
        i,
        metaField(i, 'scrolled'),
        'true, false or "auto"',
        scrolled,
      );
    const execution = meta.execution;
    if (s.minor >= 4 && execution !== undefined) {
      if (!isObject(execution))
        typeError(s, metaPointer(i, 'execution'), i, metaField(i, 'execution'), 'an object', execution);
      else {
        for (const key in execution) {
          // Every value is a timestamp string (schema patternProperties "^.*$", Python semantics).
          const v = execution[key];
          if (typeof v === 'string' || !isSingleLineKey(key)) continue;
          typeError(
            s,
            `${metaPointer(i, 'execution')}/${pointerToken(key)}`,
            i,
            `${metaField(i, 'execution')}[${quote(key)}]`,
            'a string (an ISO 8601 time)',
            v,
          );
        }
      }
    }
  }
}

function checkTags(s: Scope, tags: unknown, i: number): void {
  if (!Array.isArray(tags)) {
    s.report({
      rule: 'NB-005',
      message: `the tags of cell ${i} must be a list of strings, found ${describe(tags)}.`,
      location: { pointer: metaPointer(i, 'tags'), cell: i },
      fix: `Set metadata.tags of cell ${i} to a list of strings, e.g. ["parameters"].`,
    });
    return;
  }
  // First index of each tag: indexOf for the usual handful, a map for long (hostile) lists.
  const firstIndex = tags.length > 32 ? new Map<unknown, number>() : undefined;
  const firstOf = (tag: unknown, k: number): number => {
    if (!firstIndex) return tags.indexOf(tag);
    const first = firstIndex.get(tag);
    if (first !== undefined) return first;
    firstIndex.set(tag, k);
    return k;
  };
  for (let k = 0; k < tags.length; k++) {
    const tag = tags[k];
    const first = firstOf(tag, k);
    if (typeof tag === 'string' && tag.length > 0 && !tag.includes(',') && first === k) continue;
    let problem: string;
    let fix: string;
    if (typeof tag !== 'string') {
      problem = `is ${describe(tag)}, not a string`;
      fix = `Make tag ${k} of cell ${i} a string or remove it.`;
    } else if (tag.length === 0) {
      problem = 'is empty';
      fix = `Remove the empty tag from cell ${i}.`;
    } else if (tag.includes(',')) {
      problem = `${quote(tag)} contains a comma`;
      fix = `Split ${quote(tag)} into separate tags: ${JSON.stringify(tag.split(',').filter((t) => t !== ''))}.`;
    } else {
      problem = `${quote(tag)} repeats tag ${first}`;
      fix = `Remove the repeated ${quote(tag)} tag from cell ${i}.`;
    }
    s.report({
      rule: 'NB-005',
      message: `tag ${k} of cell ${i} ${problem}; tags must be unique strings without commas.`,
      location: { pointer: `${metaPointer(i, 'tags')}/${k}`, cell: i },
      fix,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs, mime bundles, attachments

interface OutputSpec {
  required: readonly (readonly [string, string])[];
  allowed: ReadonlySet<string>;
}

function outputSpec(required: Record<string, string>): OutputSpec {
  return { required: Object.entries(required), allowed: new Set(['output_type', ...Object.keys(required)]) };
}

const OUTPUT_SPECS: Record<OutputType, OutputSpec> = {
  stream: outputSpec(OUTPUT_FIELDS.stream),
  display_data: outputSpec(OUTPUT_FIELDS.display_data),
  execute_result: outputSpec(OUTPUT_FIELDS.execute_result),
  error: outputSpec(OUTPUT_FIELDS.error),
};

const outputPointer = (i: number, j: number, key?: string) =>
  key === undefined ? `/cells/${i}/outputs/${j}` : `/cells/${i}/outputs/${j}/${key}`;
const outputLabel = (i: number, j: number) => `output ${j} of cell ${i}`;

function checkOutput(s: Scope, out: unknown, i: number, j: number): void {
  if (!isObject(out)) {
    typeError(s, outputPointer(i, j), i, outputLabel(i, j), 'an object', out);
    return;
  }
  const type = out.output_type;
  if (type !== 'stream' && type !== 'display_data' && type !== 'execute_result' && type !== 'error') {
    reportOutputType(s, type, i, j);
    return;
  }
  const spec = OUTPUT_SPECS[type];
  for (const [key, example] of spec.required) {
    if (out[key] === undefined)
      s.report({
        rule: 'NB-004',
        message: `${outputLabel(i, j)} (${type}) has no "${key}".`,
        location: { pointer: outputPointer(i, j), cell: i },
        fix: `Add "${key}": ${example} to ${outputLabel(i, j)}, or clear the cell's outputs.`,
      });
  }
  if (!s.relaxed) {
    for (const key in out) {
      if (spec.allowed.has(key)) continue;
      s.report({
        rule: 'NB-004',
        message: `${outputLabel(i, j)} (${type}) has an unknown key ${quote(key)}${key === 'execution_count' ? ' (only execute_result outputs have one)' : ''}.`,
        location: { pointer: outputPointer(i, j, pointerToken(key)), cell: i },
        fix: `Remove ${quote(key)} from ${outputLabel(i, j)}; ${type} outputs have only ${listWords([...spec.allowed])}.`,
      });
    }
  }

  if (type === 'stream') {
    const name = out.name;
    if (name !== undefined && name !== 'stdout' && name !== 'stderr') reportStreamName(s, name, i, j);
    if (out.text !== undefined && !isMultiline(out.text))
      reportMultiline(s, out.text, outputPointer(i, j, 'text'), i, `the text of ${outputLabel(i, j)}`);
  } else if (type === 'error') {
    if (out.ename !== undefined && typeof out.ename !== 'string')
      typeError(s, outputPointer(i, j, 'ename'), i, `ename of ${outputLabel(i, j)}`, 'a string', out.ename);
    if (out.evalue !== undefined && typeof out.evalue !== 'string')
      typeError(
        s,
        outputPointer(i, j, 'evalue'),
        i,
        `evalue of ${outputLabel(i, j)}`,
        'a string',
        out.evalue,
      );
    const tb = out.traceback;
    if (tb !== undefined) {
      if (!Array.isArray(tb))
        typeError(
          s,
          outputPointer(i, j, 'traceback'),
          i,
          `the traceback of ${outputLabel(i, j)}`,
          'a list of strings',
          tb,
        );
      else {
        for (let k = 0; k < tb.length; k++) {
          if (typeof tb[k] === 'string') continue;
          typeError(
            s,
            `${outputPointer(i, j, 'traceback')}/${k}`,
            i,
            `line ${k} of the traceback of ${outputLabel(i, j)}`,
            'a string',
            tb[k],
          );
          break;
        }
      }
    }
  } else {
    const data = out.data;
    if (data !== undefined) {
      if (!isObject(data))
        typeError(
          s,
          outputPointer(i, j, 'data'),
          i,
          `the data of ${outputLabel(i, j)}`,
          'an object keyed by mime type',
          data,
        );
      else if (!s.relaxed)
        reportMimeValues(s, data, outputPointer(i, j, 'data'), i, `the data of ${outputLabel(i, j)}`);
    }
    if (out.metadata !== undefined && !isObject(out.metadata))
      typeError(
        s,
        outputPointer(i, j, 'metadata'),
        i,
        `the metadata of ${outputLabel(i, j)}`,
        'an object',
        out.metadata,
      );
    const count = out.execution_count;
    if (type === 'execute_result' && count !== undefined && !isExecutionCount(count))
      reportExecutionCount(
        s,
        count,
        outputPointer(i, j, 'execution_count'),
        i,
        `execution_count of ${outputLabel(i, j)}`,
      );
  }
}

function reportOutputType(s: Scope, type: unknown, i: number, j: number): void {
  if (type === undefined) {
    s.report({
      rule: 'NB-004',
      message: `${outputLabel(i, j)} has no output_type.`,
      location: { pointer: outputPointer(i, j), cell: i },
      fix: `Add "output_type" ("stream", "display_data", "execute_result" or "error") to ${outputLabel(i, j)}, or clear the outputs.`,
    });
    return;
  }
  if (s.relaxed) return; // nbformat's "unrecognized_output" requires only output_type
  const hint = typeof type === 'string' && V3_HINTS[type] ? ` ("${type}" is the ${V3_HINTS[type]})` : '';
  s.report({
    rule: 'NB-004',
    message: `${outputLabel(i, j)} has unknown output_type ${describe(type)}${hint}; it must be "stream", "display_data", "execute_result" or "error".`,
    location: { pointer: outputPointer(i, j, 'output_type'), cell: i },
    fix: `Fix the output_type of ${outputLabel(i, j)}, or clear the cell's outputs (\`jupyter nbconvert --clear-output\`).`,
  });
}

function reportStreamName(s: Scope, name: unknown, i: number, j: number): void {
  if (typeof name !== 'string') {
    typeError(
      s,
      outputPointer(i, j, 'name'),
      i,
      `the stream name of ${outputLabel(i, j)}`,
      '"stdout" or "stderr"',
      name,
    );
    return;
  }
  s.report({
    rule: 'NB-012',
    message: `${outputLabel(i, j)} (stream) is named ${quote(name)}; Jupyter writes only "stdout" and "stderr" streams.`,
    location: { pointer: outputPointer(i, j, 'name'), cell: i },
    fix: `Set the name of ${outputLabel(i, j)} to "stdout" or "stderr", or clear the cell's outputs.`,
  });
}

/** Mime-type answers, cached: bundles repeat the same few mime types thousands of times. */
const jsonMimeCache = new Map<string, boolean>();
function isJsonMimeCached(mime: string): boolean {
  let hit = jsonMimeCache.get(mime);
  if (hit === undefined) {
    hit = isJsonMime(mime);
    if (jsonMimeCache.size < 512) jsonMimeCache.set(mime, hit);
  }
  return hit;
}

/** Values of a mime bundle: any JSON for application/json and application/*+json, else multiline. */
function reportMimeValues(
  s: Scope,
  bundle: Record<string, unknown>,
  pointer: string,
  cell: number,
  field: string,
): void {
  for (const mime in bundle) {
    const value = bundle[mime];
    if (typeof value === 'string' || isJsonMimeCached(mime) || isMultiline(value)) continue;
    reportMultiline(s, value, `${pointer}/${pointerToken(mime)}`, cell, `${field}[${quote(mime)}]`);
  }
}

function checkAttachments(s: Scope, attachments: unknown, i: number): void {
  const pointer = `/cells/${i}/attachments`;
  if (!isObject(attachments)) {
    typeError(
      s,
      pointer,
      i,
      `the attachments of cell ${i}`,
      'an object mapping file names to mime bundles',
      attachments,
    );
    return;
  }
  for (const name in attachments) {
    const bundle = attachments[name];
    const at = `${pointer}/${pointerToken(name)}`;
    const field = `attachment ${quote(name)} of cell ${i}`;
    if (!isObject(bundle)) typeError(s, at, i, field, 'an object keyed by mime type', bundle);
    // The relaxed schema turns the bundle's additionalProperties into `true`: any value goes.
    else if (!s.relaxed) reportMimeValues(s, bundle, at, i, field);
  }
}
