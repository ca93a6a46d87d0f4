/**
 * Notebook generators for validator tests: valid nbformat 4.0-4.5 notebooks (every cell and output
 * type, random metadata, multiline fields in both forms), single mutations that break (or, for a
 * few edge cases, deliberately keep) validity with the NB rule and pointer they must produce, and
 * a deterministic corpus of both for differential tests.
 */
import fc from 'fast-check';

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/** What nbops must report for a mutated notebook. `valid` means: no error finding at all. */
export type Expectation = { rule: string; pointer: string; severity: 'error' | 'warning' | 'info' } | 'valid';

export interface Mutated {
  notebook: Json;
  expect: Expectation;
}

export interface Mutation {
  name: string;
  /** Returns a mutated deep copy, or undefined when the notebook has nothing to mutate this way. */
  apply(notebook: JsonObject, pick: (n: number) => number): Mutated | undefined;
}

// ---------------------------------------------------------------------------------------------
// Valid notebooks

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'.split('');

export const arbCellId: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 60, maxLength: 64 }) },
);

const arbText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
);

/** nbformat multiline: one string, or a list of lines each ending in "\n" except the last. */
export const arbMultiline: fc.Arbitrary<Json> = fc.oneof(
  arbText,
  fc
    .array(arbText, { maxLength: 5 })
    .map((lines) => lines.map((l, k) => (k < lines.length - 1 ? `${l}\n` : l))),
);

const arbJson: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;

/** Extra metadata keys: anything JSON, under names the schema does not type. */
const arbExtraKeys: fc.Arbitrary<JsonObject> = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 8 }).map((k) => `x-${k}`),
  arbJson,
  { maxKeys: 3 },
);

const arbTag = fc.string({ minLength: 1, maxLength: 12 }).filter((t) => !t.includes(','));
const arbCellName = fc.string({ minLength: 1, maxLength: 12 }).filter((t) => !t.includes('\n'));
const ISO_TIME = '2024-05-01T12:00:00.000000Z';

function arbCellMetadata(type: 'code' | 'markdown' | 'raw', minor: number): fc.Arbitrary<JsonObject> {
  const known: Record<string, fc.Arbitrary<Json>> = {
    name: arbCellName,
    tags: fc.uniqueArray(fc.oneof(arbTag, fc.constant('parameters')), { maxLength: 3 }),
  };
  if (minor >= 3) {
    const jupyter: Record<string, fc.Arbitrary<Json>> = { source_hidden: fc.boolean() };
    if (type === 'code') jupyter.outputs_hidden = fc.boolean();
    known.jupyter = fc.record(jupyter, { requiredKeys: [] }) as fc.Arbitrary<Json>;
  }
  if (type === 'code') {
    known.collapsed = fc.boolean();
    known.scrolled = fc.constantFrom<Json>(true, false, 'auto');
    if (minor >= 4)
      known.execution = fc.record(
        {
          'iopub.execute_input': fc.constant(ISO_TIME),
          'iopub.status.busy': fc.constant(ISO_TIME),
          'shell.execute_reply': fc.constant(ISO_TIME),
          'iopub.status.idle': fc.constant(ISO_TIME),
        },
        { requiredKeys: [] },
      );
  }
  if (type === 'raw') known.format = fc.constantFrom('text/latex', 'text/restructuredtext', 'text/html');
  return fc
    .tuple(fc.record(known, { requiredKeys: [] }), arbExtraKeys)
    .map(([k, extra]) => ({ ...extra, ...k }) as JsonObject);
}

const TEXT_MIMES = [
  'text/plain',
  'text/html',
  'text/markdown',
  'text/latex',
  'image/png',
  'image/svg+xml',
  'application/javascript',
];
const JSON_MIMES = [
  'application/json',
  'application/vnd.plotly.v1+json',
  'application/vnd.jupyter.widget-view+json',
];

export const arbMimeBundle: fc.Arbitrary<JsonObject> = fc
  .tuple(
    fc.dictionary(fc.constantFrom(...TEXT_MIMES), arbMultiline, { maxKeys: 3 }),
    fc.dictionary(fc.constantFrom(...JSON_MIMES), arbJson, { maxKeys: 2 }),
  )
  .map(([text, json]) => ({ ...text, ...json }));

const arbExecutionCount: fc.Arbitrary<Json> = fc.oneof(fc.constant(null), fc.nat({ max: 500 }));

export const arbOutput: fc.Arbitrary<JsonObject> = fc.oneof(
  fc.record({
    output_type: fc.constant('stream'),
    name: fc.constantFrom('stdout', 'stderr'),
    text: arbMultiline,
  }),
  fc.record({ output_type: fc.constant('display_data'), data: arbMimeBundle, metadata: arbExtraKeys }),
  fc.record({
    output_type: fc.constant('execute_result'),
    data: arbMimeBundle,
    metadata: arbExtraKeys,
    execution_count: arbExecutionCount,
  }),
  fc.record({
    output_type: fc.constant('error'),
    ename: fc.constantFrom('ValueError', 'KeyError', 'RuntimeError'),
    evalue: arbText,
    traceback: fc.array(arbText, { maxLength: 4 }),
  }),
) as fc.Arbitrary<JsonObject>;

const arbAttachments: fc.Arbitrary<JsonObject> = fc.dictionary(
  fc.constantFrom('image.png', 'plot 1.png', 'a/b.svg', 'x~y.gif'),
  arbMimeBundle,
  { minKeys: 1, maxKeys: 2 },
);

function arbCell(minor: number): fc.Arbitrary<JsonObject> {
  const code = fc.record({
    cell_type: fc.constant('code'),
    metadata: arbCellMetadata('code', minor),
    source: arbMultiline,
    outputs: fc.array(arbOutput, { maxLength: 4 }),
    execution_count: arbExecutionCount,
  });
  const textCell = (type: 'markdown' | 'raw') =>
    fc
      .tuple(
        fc.record({
          cell_type: fc.constant(type),
          metadata: arbCellMetadata(type, minor),
          source: arbMultiline,
        }),
        fc.option(arbAttachments, { freq: 3 }),
      )
      .map(([cell, attachments]) => (attachments ? { ...cell, attachments } : cell));
  return fc.oneof(
    { weight: 3, arbitrary: code },
    textCell('markdown'),
    textCell('raw'),
  ) as fc.Arbitrary<JsonObject>;
}

function arbNotebookMetadata(minor: number): fc.Arbitrary<JsonObject> {
  const known: Record<string, fc.Arbitrary<Json>> = {
    kernelspec: fc.record(
      {
        name: fc.constantFrom('python3', 'ir', 'julia-1.10'),
        display_name: fc.constantFrom('Python 3', 'R', 'Julia 1.10'),
        language: fc.constantFrom('python', 'R', 'julia'),
      },
      { requiredKeys: ['name', 'display_name'] },
    ),
    language_info: fc.record(
      {
        name: fc.constantFrom('python', 'R'),
        version: fc.constantFrom('3.11.4', '4.3.1'),
        codemirror_mode: fc.oneof(fc.constant('r'), fc.constant({ name: 'ipython', version: 3 })),
        file_extension: fc.constant('.py'),
        mimetype: fc.constant('text/x-python'),
        pygments_lexer: fc.constant('ipython3'),
      },
      { requiredKeys: ['name'] },
    ),
    orig_nbformat: fc.integer({ min: 1, max: 4 }),
    widgets: fc.constant({
      'application/vnd.jupyter.widget-state+json': { state: {}, version_major: 2, version_minor: 0 },
    }),
  };
  if (minor >= 2) {
    known.title = arbText;
    known.authors = fc.array(fc.record({ name: arbText }), { maxLength: 2 });
  }
  return fc
    .tuple(fc.record(known, { requiredKeys: [] }), arbExtraKeys)
    .map(([k, extra]) => ({ ...extra, ...k }) as JsonObject);
}

/** A valid notebook of the given minor version (ids on every cell from 4.5, none before). */
export function arbNotebookOfMinor(minor: number, maxCells = 6): fc.Arbitrary<JsonObject> {
  return fc
    .tuple(
      arbNotebookMetadata(minor),
      fc.array(arbCell(minor), { maxLength: maxCells }),
      fc.uniqueArray(arbCellId, { minLength: maxCells, maxLength: maxCells }),
    )
    .map(([metadata, cells, ids]) => ({
      nbformat: 4,
      nbformat_minor: minor,
      metadata,
      cells: minor >= 5 ? cells.map((c, k) => ({ id: ids[k]!, ...c })) : cells,
    }));
}

/** Valid notebooks of every minor version 4.0 to 4.5. */
export const arbNotebook: fc.Arbitrary<JsonObject> = fc
  .integer({ min: 0, max: 5 })
  .chain((m) => arbNotebookOfMinor(m));

// ---------------------------------------------------------------------------------------------
// Mutations

const clone = (nb: JsonObject): JsonObject => structuredClone(nb);
const cellsOf = (nb: JsonObject): JsonObject[] => nb.cells as JsonObject[];
const minorOf = (nb: JsonObject): number => nb.nbformat_minor as number;
const err = (rule: string, pointer: string): Expectation => ({ rule, pointer, severity: 'error' });
const esc = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');

/** A random cell index whose cell satisfies `ok`, or undefined. */
function pickCell(nb: JsonObject, pick: (n: number) => number, ok: (c: JsonObject) => boolean = () => true) {
  const candidates = cellsOf(nb).flatMap((c, i) => (ok(c) ? [i] : []));
  return candidates.length === 0 ? undefined : candidates[pick(candidates.length)];
}

const isCode = (c: JsonObject) => c.cell_type === 'code';

/** Mutates a copy of cell `i` (chosen by `ok`) with `edit`, which returns the expectation. */
function onCell(
  nb: JsonObject,
  pick: (n: number) => number,
  ok: (c: JsonObject) => boolean,
  edit: (cell: JsonObject, i: number, copy: JsonObject) => Expectation | undefined,
): Mutated | undefined {
  const i = pickCell(nb, pick, ok);
  if (i === undefined) return undefined;
  const copy = clone(nb);
  const expect = edit(cellsOf(copy)[i]!, i, copy);
  return expect ? { notebook: copy, expect } : undefined;
}

/** Inserts `output` into a code cell at a random position; the expectation gets the output pointer. */
function withOutput(
  nb: JsonObject,
  pick: (n: number) => number,
  output: JsonObject,
  expect: (outputPointer: string) => Expectation,
): Mutated | undefined {
  return onCell(nb, pick, isCode, (cell, i) => {
    const outputs = cell.outputs as Json[];
    const j = pick(outputs.length + 1);
    outputs.splice(j, 0, output);
    return expect(`/cells/${i}/outputs/${j}`);
  });
}

const validStream = (): JsonObject => ({ output_type: 'stream', name: 'stdout', text: 'ok\n' });
const validError = (): JsonObject => ({
  output_type: 'error',
  ename: 'E',
  evalue: 'v',
  traceback: ['a', 'b'],
});
const validDisplay = (): JsonObject => ({
  output_type: 'display_data',
  data: { 'text/plain': 'x' },
  metadata: {},
});
const validResult = (): JsonObject => ({
  ...validDisplay(),
  output_type: 'execute_result',
  execution_count: 1,
});

const REQUIRED_CELL_FIELDS: Record<string, string[]> = {
  code: ['metadata', 'source', 'outputs', 'execution_count'],
  markdown: ['metadata', 'source'],
  raw: ['metadata', 'source'],
};

export const mutations: Mutation[] = [
  {
    name: 'drop a top-level key',
    apply(nb, pick) {
      const copy = clone(nb);
      const key = ['metadata', 'nbformat_minor', 'nbformat', 'cells'][pick(4)]!;
      delete copy[key];
      return { notebook: copy, expect: err('NB-001', '') };
    },
  },
  {
    name: 'add a top-level key',
    apply(nb, pick) {
      const key = ['worksheets', 'extra', 'nbops'][pick(3)]!;
      return { notebook: { ...clone(nb), [key]: {} }, expect: err('NB-001', `/${key}`) };
    },
  },
  {
    name: 'nbformat of the wrong type',
    apply: (nb, pick) => ({
      notebook: { ...clone(nb), nbformat: ['4', 4.5, null][pick(3)]! },
      expect: err('NB-001', '/nbformat'),
    }),
  },
  {
    name: 'nbformat 3',
    apply: (nb, pick) => ({
      notebook: { ...clone(nb), nbformat: pick(3) + 1 },
      expect: err('NB-001', '/nbformat'),
    }),
  },
  {
    name: 'nbformat_minor invalid',
    apply: (nb, pick) => ({
      notebook: { ...clone(nb), nbformat_minor: [-1, '5', 1.5, null][pick(4)]! },
      expect: err('NB-001', '/nbformat_minor'),
    }),
  },
  {
    name: 'top level is not an object',
    apply: (nb, pick) => ({
      notebook: [[clone(nb)], 'notebook', 4, null][pick(4)]!,
      expect: err('NB-001', ''),
    }),
  },
  {
    name: 'metadata is not an object',
    apply: (nb, pick) => ({
      notebook: { ...clone(nb), metadata: [[], 'x', null][pick(3)]! },
      expect: err('NB-001', '/metadata'),
    }),
  },
  {
    name: 'cells is not a list',
    apply: (nb, pick) => ({
      notebook: { ...clone(nb), cells: [{}, 'x', null][pick(3)]! },
      expect: err('NB-001', '/cells'),
    }),
  },
  {
    name: 'cell without id in 4.5',
    apply: (nb, pick) =>
      minorOf(nb) < 5
        ? undefined
        : onCell(
            nb,
            pick,
            () => true,
            (cell, i) => {
              delete cell.id;
              return err('NB-002', `/cells/${i}`);
            },
          ),
  },
  {
    name: 'cell id before 4.5',
    apply: (nb, pick) =>
      minorOf(nb) >= 5
        ? undefined
        : onCell(
            nb,
            pick,
            () => true,
            (cell, i) => {
              cell.id = `cell-${i}`;
              return err('NB-002', `/cells/${i}/id`);
            },
          ),
  },
  {
    name: 'duplicate cell id',
    apply(nb, pick) {
      const cells = cellsOf(nb);
      if (minorOf(nb) < 5 || cells.length < 2) return undefined;
      const j = 1 + pick(cells.length - 1);
      const i = pick(j);
      const copy = clone(nb);
      cellsOf(copy)[j]!.id = cells[i]!.id!;
      return { notebook: copy, expect: err('NB-003', `/cells/${j}/id`) };
    },
  },
  {
    name: 'malformed cell id',
    apply: (nb, pick) =>
      minorOf(nb) < 5
        ? undefined
        : onCell(
            nb,
            pick,
            () => true,
            (cell, i) => {
              cell.id = ['', 'has space', 'x'.repeat(65), 'café', 'abc\n', 'a.b', 42, null][pick(8)]!;
              return err('NB-003', `/cells/${i}/id`);
            },
          ),
  },
  {
    name: 'cell without a required field',
    apply: (nb, pick) =>
      onCell(
        nb,
        pick,
        () => true,
        (cell, i) => {
          const fields = REQUIRED_CELL_FIELDS[cell.cell_type as string]!;
          delete cell[fields[pick(fields.length)]!];
          return err('NB-004', `/cells/${i}`);
        },
      ),
  },
  {
    name: 'cell with an unknown key',
    apply: (nb, pick) =>
      onCell(
        nb,
        pick,
        () => true,
        (cell, i) => {
          const key = isCode(cell)
            ? ['prompt_number', 'attachments', 'extra'][pick(3)]!
            : ['outputs', 'execution_count', 'extra'][pick(3)]!;
          cell[key] = key === 'attachments' ? {} : 1;
          return err('NB-004', `/cells/${i}/${key}`);
        },
      ),
  },
  {
    name: 'cell is not an object',
    apply: (nb, pick) =>
      onCell(
        nb,
        pick,
        () => true,
        (_cell, i, copy) => {
          cellsOf(copy)[i] = ['code', [], null, 3][pick(4)] as unknown as JsonObject;
          return err('NB-004', `/cells/${i}`);
        },
      ),
  },
  {
    name: 'unknown cell_type',
    apply: (nb, pick) =>
      onCell(
        nb,
        pick,
        () => true,
        (cell, i) => {
          cell.cell_type = ['heading', 'Code', 'python', 3, null][pick(5)]!;
          return err('NB-004', `/cells/${i}/cell_type`);
        },
      ),
  },
  {
    name: 'cell without cell_type',
    apply: (nb, pick) =>
      onCell(
        nb,
        pick,
        () => true,
        (cell, i) => {
          delete cell.cell_type;
          return err('NB-004', `/cells/${i}`);
        },
      ),
  },
  {
    name: 'source of the wrong type',
    apply: (nb, pick) =>
      onCell(
        nb,
        pick,
        () => true,
        (cell, i) => {
          if (pick(2) === 0) {
            cell.source = [5, null, { a: 1 }, true][pick(4)]!;
            return err('NB-004', `/cells/${i}/source`);
          }
          const lines = Array.isArray(cell.source) ? cell.source : [];
          const k = pick(lines.length + 1);
          cell.source = [...lines.slice(0, k), 7, ...lines.slice(k)];
          return err('NB-004', `/cells/${i}/source/${k}`);
        },
      ),
  },
  {
    name: 'cell metadata is not an object',
    apply: (nb, pick) =>
      onCell(
        nb,
        pick,
        () => true,
        (cell, i) => {
          cell.metadata = [[], 'meta', null][pick(3)]!;
          return err('NB-004', `/cells/${i}/metadata`);
        },
      ),
  },
  {
    name: 'invalid execution_count',
    apply: (nb, pick) =>
      onCell(nb, pick, isCode, (cell, i) => {
        cell.execution_count = [-1, '3', 1.5, true][pick(4)]!;
        return err('NB-004', `/cells/${i}/execution_count`);
      }),
  },
  {
    name: 'outputs is not a list',
    apply: (nb, pick) =>
      onCell(nb, pick, isCode, (cell, i) => {
        cell.outputs = [{}, 'x', null][pick(3)]!;
        return err('NB-004', `/cells/${i}/outputs`);
      }),
  },
  {
    name: 'output is not an object',
    apply: (nb, pick) => withOutput(nb, pick, null as unknown as JsonObject, (p) => err('NB-004', p)),
  },
  {
    name: 'unknown output_type',
    apply: (nb, pick) =>
      withOutput(
        nb,
        pick,
        { ...validStream(), output_type: ['pyout', 'pyerr', 'Stream', 5][pick(4)]! },
        (p) => err('NB-004', `${p}/output_type`),
      ),
  },
  {
    name: 'output without a required field',
    apply(nb, pick) {
      const outputs = [validStream(), validError(), validDisplay(), validResult()];
      const output = outputs[pick(outputs.length)]!;
      const keys = Object.keys(output);
      delete output[keys[pick(keys.length)]!];
      return withOutput(nb, pick, output, (p) => err('NB-004', p));
    },
  },
  {
    name: 'output with an unknown key',
    apply(nb, pick) {
      const outputs = [validStream(), validError(), validDisplay()];
      const output = { ...outputs[pick(outputs.length)]!, execution_count: 1 };
      return withOutput(nb, pick, output, (p) => err('NB-004', `${p}/execution_count`));
    },
  },
  {
    name: 'traceback line is not a string',
    apply(nb, pick) {
      const k = pick(3);
      const traceback: Json[] = ['a', 'b'];
      traceback.splice(k, 0, 5);
      return withOutput(nb, pick, { ...validError(), traceback }, (p) =>
        err('NB-004', `${p}/traceback/${k}`),
      );
    },
  },
  {
    name: 'error field of the wrong type',
    apply(nb, pick) {
      const key = ['ename', 'evalue', 'traceback'][pick(3)]!;
      return withOutput(nb, pick, { ...validError(), [key]: key === 'traceback' ? 'line' : 1 }, (p) =>
        err('NB-004', `${p}/${key}`),
      );
    },
  },
  {
    name: 'mime value of the wrong type',
    apply(nb, pick) {
      const mime = ['text/plain', 'image/png', 'application/javascript'][pick(3)]!;
      const output = pick(2) === 0 ? validDisplay() : validResult();
      output.data = { [mime]: [3, { a: 1 }, null][pick(3)]! };
      return withOutput(nb, pick, output, (p) => err('NB-004', `${p}/data/${esc(mime)}`));
    },
  },
  {
    name: 'mime bundle is not an object',
    apply: (nb, pick) =>
      withOutput(nb, pick, { ...validDisplay(), data: 'x' }, (p) => err('NB-004', `${p}/data`)),
  },
  {
    name: 'stream name is not a string',
    apply: (nb, pick) =>
      withOutput(nb, pick, { ...validStream(), name: [1, null][pick(2)]! }, (p) =>
        err('NB-004', `${p}/name`),
      ),
  },
  {
    name: 'stream text of the wrong type',
    apply: (nb, pick) =>
      withOutput(nb, pick, { ...validStream(), text: 12 }, (p) => err('NB-004', `${p}/text`)),
  },
  {
    name: 'bad tags',
    apply: (nb, pick) =>
      onCell(
        nb,
        pick,
        () => true,
        (cell, i) => {
          const meta = cell.metadata as JsonObject;
          const variant = pick(5);
          if (variant === 0) {
            meta.tags = 'parameters';
            return err('NB-005', `/cells/${i}/metadata/tags`);
          }
          const bad: Json = [5, '', 'a,b', 'dup'][variant - 1]!;
          const base = variant === 4 ? ['dup'] : [];
          meta.tags = [...base, bad];
          return err('NB-005', `/cells/${i}/metadata/tags/${base.length}`);
        },
      ),
  },
  {
    name: 'bad cell name',
    apply: (nb, pick) =>
      onCell(
        nb,
        pick,
        () => true,
        (cell, i) => {
          (cell.metadata as JsonObject).name = ['', 'two\nlines', 'trailing\n', 5][pick(4)]!;
          return err('NB-004', `/cells/${i}/metadata/name`);
        },
      ),
  },
  {
    name: 'collapsed or scrolled of the wrong type',
    apply: (nb, pick) =>
      onCell(nb, pick, isCode, (cell, i) => {
        const key = pick(2) === 0 ? 'collapsed' : 'scrolled';
        (cell.metadata as JsonObject)[key] = key === 'collapsed' ? 'yes' : 'always';
        return err('NB-004', `/cells/${i}/metadata/${key}`);
      }),
  },
  {
    name: 'execution timestamp is not a string',
    apply: (nb, pick) =>
      minorOf(nb) < 4
        ? undefined
        : onCell(nb, pick, isCode, (cell, i) => {
            const key = ['iopub.status.busy', 'custom', 'ends-in-newline\n'][pick(3)]!;
            (cell.metadata as JsonObject).execution = { [key]: 5 };
            return err('NB-004', `/cells/${i}/metadata/execution/${esc(key)}`);
          }),
  },
  {
    name: 'jupyter metadata is not an object',
    apply: (nb, pick) =>
      minorOf(nb) < 3
        ? undefined
        : onCell(
            nb,
            pick,
            () => true,
            (cell, i) => {
              (cell.metadata as JsonObject).jupyter = [true, 'hidden', []][pick(3)]!;
              return err('NB-004', `/cells/${i}/metadata/jupyter`);
            },
          ),
  },
  {
    name: 'raw format is not a string',
    apply: (nb, pick) =>
      onCell(
        nb,
        pick,
        (c) => c.cell_type === 'raw',
        (cell, i) => {
          (cell.metadata as JsonObject).format = 5;
          return err('NB-004', `/cells/${i}/metadata/format`);
        },
      ),
  },
  {
    name: 'bad attachment',
    apply: (nb, pick) =>
      onCell(
        nb,
        pick,
        (c) => !isCode(c),
        (cell, i) => {
          if (pick(2) === 0) {
            cell.attachments = ['x', []][pick(2)]!;
            return err('NB-004', `/cells/${i}/attachments`);
          }
          cell.attachments = { 'a/b.png': { 'image/png': 5 } };
          return err('NB-004', `/cells/${i}/attachments/a~1b.png/image~1png`);
        },
      ),
  },
  {
    name: 'kernelspec incomplete',
    apply(nb, pick) {
      const copy = clone(nb);
      const meta = copy.metadata as JsonObject;
      const ks: JsonObject = { name: 'python3', display_name: 'Python 3' };
      if (pick(3) === 0) {
        meta.kernelspec = ['python3', null][pick(2)]!;
        return { notebook: copy, expect: err('NB-006', '/metadata/kernelspec') };
      }
      delete ks[pick(2) === 0 ? 'name' : 'display_name'];
      meta.kernelspec = ks;
      return { notebook: copy, expect: err('NB-006', '/metadata/kernelspec') };
    },
  },
  {
    name: 'language_info without name',
    apply(nb) {
      const copy = clone(nb);
      (copy.metadata as JsonObject).language_info = { version: '3.11' };
      return { notebook: copy, expect: err('NB-006', '/metadata/language_info') };
    },
  },
  {
    name: 'notebook metadata of the wrong type',
    apply(nb, pick) {
      const copy = clone(nb);
      const meta = copy.metadata as JsonObject;
      const options: [string, Json][] = [
        ['orig_nbformat', minorOf(nb) >= 1 ? 0 : -1],
        ['orig_nbformat', '4'],
      ];
      if (minorOf(nb) >= 2) options.push(['title', 5], ['authors', 'me']);
      const [key, value] = options[pick(options.length)]!;
      meta[key] = value;
      return { notebook: copy, expect: err('NB-004', `/metadata/${key}`) };
    },
  },
  // Findings below are warnings or information: nbformat accepts these notebooks.
  {
    name: 'widgets without state',
    apply(nb) {
      const copy = clone(nb);
      (copy.metadata as JsonObject).widgets = {
        'application/vnd.jupyter.widget-state+json': { version_major: 2 },
      };
      return {
        notebook: copy,
        expect: {
          rule: 'NB-007',
          pointer: '/metadata/widgets/application~1vnd.jupyter.widget-state+json',
          severity: 'warning',
        },
      };
    },
  },
  {
    name: 'stream with an unusual name',
    apply: (nb, pick) =>
      withOutput(nb, pick, { ...validStream(), name: 'stdlog' }, (p) => ({
        rule: 'NB-012',
        pointer: `${p}/name`,
        severity: 'warning',
      })),
  },
  {
    name: 'no kernelspec',
    apply(nb) {
      const copy = clone(nb);
      delete (copy.metadata as JsonObject).kernelspec;
      return { notebook: copy, expect: { rule: 'NB-006', pointer: '/metadata', severity: 'warning' } };
    },
  },
  {
    name: 'notebook from a future minor version',
    apply(nb, pick) {
      if (minorOf(nb) < 5) return undefined;
      const copy = clone(nb);
      copy.nbformat_minor = 6 + pick(4);
      copy.future = { any: 'thing' };
      const cells = cellsOf(copy);
      cells.splice(pick(cells.length + 1), 0, {
        cell_type: 'hologram',
        metadata: { tags: ['t'] },
        payload: [1],
      });
      for (const cell of cells) cell['x-future-key'] = true;
      return { notebook: copy, expect: { rule: 'NB-001', pointer: '/nbformat_minor', severity: 'info' } };
    },
  },
  {
    name: 'edge: values that Python regex semantics accept',
    apply(nb, pick) {
      // `$` in Python also matches before a final "\n"; `.` does not cross a line break.
      const variant = pick(2);
      if (variant === 0)
        return withOutput(
          nb,
          pick,
          { ...validDisplay(), data: { 'application/json\n': { a: [1] } } },
          () => 'valid',
        );
      if (minorOf(nb) < 4) return undefined;
      return onCell(nb, pick, isCode, (cell) => {
        (cell.metadata as JsonObject).execution = { 'not\nmatched': 5 };
        return 'valid';
      });
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Deterministic corpus

export interface CorpusEntry {
  name: string;
  notebook: Json;
  expect: Expectation;
}

/** Small deterministic PRNG (mulberry32) so a seed always yields the same corpus. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` notebooks from `seed`: a third valid, the rest each carrying one mutation (the least used
 * mutation that fits, so a corpus of a few hundred covers each of them several times).
 */
export function corpus(seed: number, n: number): CorpusEntry[] {
  const notebooks = fc.sample(arbNotebook, { seed, numRuns: n });
  const random = prng(seed);
  const pick = (k: number) => Math.floor(random() * k);
  const out: CorpusEntry[] = [];
  const used = mutations.map(() => 0);
  notebooks.forEach((nb, k) => {
    if (k % 3 === 0) {
      out.push({ name: `valid #${k} (4.${minorOf(nb)})`, notebook: nb, expect: 'valid' });
      return;
    }
    // The least used mutation that fits this notebook (some need cells, code cells or a minor).
    const order = mutations.map((_, m) => m).sort((a, b) => used[a]! - used[b]! || a - b);
    for (const m of order) {
      const mutated = mutations[m]!.apply(nb, pick);
      if (!mutated) continue;
      used[m]!++;
      out.push({ name: `${mutations[m]!.name} #${k} (4.${minorOf(nb)})`, ...mutated });
      return;
    }
    out.push({ name: `valid #${k} (4.${minorOf(nb)})`, notebook: nb, expect: 'valid' });
  });
  return out;
}
