/**
 * Hygiene (HY-*): what the uploaded notebook carries besides its code. nbops runs every notebook
 * fresh, so saved outputs, execution counts and editor metadata are noise at best and hidden state
 * or leaked data at worst. These rules read structure only (no regex over outputs), so a notebook
 * with tens of thousands of outputs costs one pass over its cells.
 */
import { cellSource, cellsOf, cellType, isRecord, pointerToken } from '#core/notebook/notebook';
import type { CheckContext, RuleFamilyModule } from './family';
import type { RuleSpec } from './finding';

export const hygieneRules: RuleSpec[] = [
  {
    id: 'HY-001',
    family: 'hygiene',
    defaultSeverity: 'warning',
    title: 'No saved outputs',
    rationale:
      'nbops runs the notebook fresh, so saved outputs are never used; they bloat every version, hide what the run ' +
      'really produced and can leak data or credentials printed during exploration.',
  },
  {
    id: 'HY-002',
    family: 'hygiene',
    defaultSeverity: 'warning',
    title: 'Cells were executed in order (no hidden state)',
    rationale:
      'Execution counts that go backwards, or executed cells mixed with never-run ones, mean the saved results came ' +
      'from an order of execution that a top-to-bottom run will not repeat.',
  },
  {
    id: 'HY-003',
    family: 'hygiene',
    defaultSeverity: 'warning',
    title: 'No error outputs',
    rationale: 'A saved error output means the notebook failed the last time it was run by hand.',
  },
  {
    id: 'HY-004',
    family: 'hygiene',
    defaultSeverity: 'warning',
    title: 'No large outputs or attachments (over 500 KB each, or 10 MB in total)',
    rationale:
      'Large embedded images, data frames and attachments make every version slow to upload, diff and validate ' +
      '(pre-commit check-added-large-files uses 500 KB as its default).',
  },
  {
    id: 'HY-005',
    family: 'hygiene',
    defaultSeverity: 'info',
    title: 'No volatile editor metadata',
    rationale:
      'The notebook signature, per-cell `trusted`, `ExecuteTime`, `execution`, `collapsed` and `scrolled` change ' +
      'whenever someone opens or runs the notebook, so identical code gets different version hashes.',
  },
  {
    id: 'HY-006',
    family: 'hygiene',
    defaultSeverity: 'info',
    title: 'No empty code cells',
    rationale:
      'Empty code cells are leftovers; they cost nothing to run but clutter the notebook and its reports.',
  },
];

const LARGE_ITEM_BYTES = 500 * 1024;
const LARGE_NOTEBOOK_BYTES = 10 * 1024 * 1024;
const VOLATILE_CELL_KEYS = ['trusted', 'ExecuteTime', 'execution', 'collapsed', 'scrolled'] as const;
const STRIP_FIX =
  'Clear the outputs before uploading: `jupyter nbconvert --clear-output --inplace <notebook>.ipynb`, or install ' +
  'nbstripout (`nbstripout --install`) so git strips them on commit.';

/**
 * Approximate serialized size of a JSON value: string lengths plus a little per structure; stops
 * counting once past `limit` (enough to compare with a threshold, cheap on huge outputs).
 */
function approxSize(value: unknown, limit: number, depth = 0): number {
  if (typeof value === 'string') return value.length + 2;
  if (depth > 64) return 5; // untrusted JSON can nest arbitrarily deep: do not recurse without bound
  if (Array.isArray(value)) {
    let total = 2;
    for (let i = 0; i < value.length && total <= limit; i++)
      total += approxSize(value[i], limit, depth + 1) + 1;
    return total;
  }
  if (isRecord(value)) {
    let total = 2;
    for (const key in value) {
      total += key.length + 4 + approxSize(value[key], limit, depth + 1);
      if (total > limit) break;
    }
    return total;
  }
  return 5;
}

/** Size of an output, reading the fields that can be large first (most outputs are small). */
function outputSize(output: Record<string, unknown>, limit: number): number {
  const text = output.text ?? output.traceback;
  let total = text === undefined ? 0 : approxSize(text, limit);
  const data = output.data;
  if (isRecord(data)) for (const mime in data) total += mime.length + approxSize(data[mime], limit);
  return total;
}

const kb = (bytes: number) => `${Math.round(bytes / 1024)} KB`;
const mb = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;

function notebookBytes(text: string): number {
  // UTF-8 length is between length and 3x length; count exactly only when it matters.
  if (text.length > LARGE_NOTEBOOK_BYTES || text.length * 3 <= LARGE_NOTEBOOK_BYTES) return text.length;
  return Buffer.byteLength(text, 'utf8');
}

function check(ctx: CheckContext): void {
  const cells = cellsOf(ctx.notebook);
  let outputCount = 0;
  let cellsWithOutputs = 0;
  let firstOutputCell: number | undefined;
  /** For HY-002: the first cell out of order, and why. */
  let disorder: { cell: number; why: string } | undefined;
  let lastCount: { cell: number; count: number } | undefined;
  let firstNull: number | undefined;
  let firstNumbered: number | undefined;
  const volatile = new Map<string, { count: number; pointer: string; cell?: number }>();
  const emptyCells: number[] = [];

  const notebookMetadata =
    isRecord(ctx.notebook) && isRecord(ctx.notebook.metadata) ? ctx.notebook.metadata : {};
  if ('signature' in notebookMetadata)
    volatile.set('signature', { count: 1, pointer: '/metadata/signature' });

  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (!isRecord(cell)) continue;
    const type = cellType(cell);
    if (isRecord(cell.metadata)) {
      for (const key of VOLATILE_CELL_KEYS) {
        if (!(key in cell.metadata)) continue;
        const seen = volatile.get(key);
        if (seen) seen.count++;
        else volatile.set(key, { count: 1, pointer: `/cells/${i}/metadata/${key}`, cell: i });
      }
    }
    if (type !== 'code' && isRecord(cell.attachments)) {
      for (const name of Object.keys(cell.attachments)) {
        const size = approxSize(cell.attachments[name], LARGE_ITEM_BYTES);
        if (size <= LARGE_ITEM_BYTES) continue;
        ctx.report({
          rule: 'HY-004',
          message: `Cell ${i} has an attachment "${name}" of about ${kb(size)} or more (limit 500 KB).`,
          location: { pointer: `/cells/${i}/attachments/${pointerToken(name)}`, cell: i },
          fix: 'Link the image from a file or URL instead of attaching it, or shrink it below 500 KB.',
        });
      }
    }
    if (type !== 'code') continue;

    const source = cellSource(cell);
    const empty = source !== undefined && source.trim() === '';
    if (empty) emptyCells.push(i);

    // Outputs: count, errors, large ones.
    const outputs = Array.isArray(cell.outputs) ? cell.outputs : [];
    if (outputs.length > 0) {
      outputCount += outputs.length;
      cellsWithOutputs++;
      firstOutputCell ??= i;
    }
    let firstError: { index: number; ename: string; errors: number } | undefined;
    for (let j = 0; j < outputs.length; j++) {
      const output = outputs[j];
      if (!isRecord(output)) continue;
      if (output.output_type === 'error') {
        if (firstError) firstError.errors++;
        else
          firstError = {
            index: j,
            ename: typeof output.ename === 'string' ? output.ename : 'error',
            errors: 1,
          };
      }
      const size = outputSize(output, LARGE_ITEM_BYTES);
      if (size > LARGE_ITEM_BYTES) {
        const kind = typeof output.output_type === 'string' ? output.output_type : 'output';
        ctx.report({
          rule: 'HY-004',
          message: `Cell ${i} has a ${kind} output of about ${kb(size)} or more (limit 500 KB).`,
          location: { pointer: `/cells/${i}/outputs/${j}`, cell: i },
          fix: `${STRIP_FIX} If the output matters, save it to a file from the notebook instead.`,
        });
      }
    }
    if (firstError) {
      const more = firstError.errors > 1 ? ` (and ${firstError.errors - 1} more)` : '';
      ctx.report({
        rule: 'HY-003',
        message: `Cell ${i} has a saved error output (${firstError.ename})${more}: the notebook failed here the last time it ran.`,
        location: { pointer: `/cells/${i}/outputs/${firstError.index}`, cell: i },
        fix: `Fix the error in cell ${i}, restart the kernel and run all cells, then clear the outputs before uploading.`,
      });
    }

    // Execution order (empty cells never get a count, so they do not count as "not run").
    const count = cell.execution_count;
    if (typeof count === 'number') {
      firstNumbered ??= i;
      if (!disorder && lastCount && count <= lastCount.count) {
        disorder = {
          cell: i,
          why: `cell ${i} has execution count ${count} but comes after cell ${lastCount.cell} (count ${lastCount.count})`,
        };
      }
      lastCount = { cell: i, count };
    } else if (count === null && !empty) {
      firstNull ??= i;
    }
  }

  if (firstOutputCell !== undefined) {
    ctx.report({
      rule: 'HY-001',
      message: `The notebook carries ${outputCount} saved output${outputCount === 1 ? '' : 's'} in ${cellsWithOutputs} cell${cellsWithOutputs === 1 ? '' : 's'} (first: cell ${firstOutputCell}); nbops runs the notebook fresh and ignores them.`,
      location: { pointer: `/cells/${firstOutputCell}/outputs`, cell: firstOutputCell },
      fix: STRIP_FIX,
    });
  }

  if (!disorder && firstNull !== undefined && firstNumbered !== undefined) {
    disorder = {
      cell: firstNull,
      why: `cell ${firstNull} was never run while cell ${firstNumbered} was`,
    };
  }
  if (disorder) {
    ctx.report({
      rule: 'HY-002',
      message: `Cells were not run top to bottom: ${disorder.why}. The saved state may depend on an order a fresh run will not repeat.`,
      location: { pointer: `/cells/${disorder.cell}/execution_count`, cell: disorder.cell },
      fix: 'Restart the kernel and run all cells from the top (Run > Restart Kernel and Run All Cells), then clear the outputs before uploading.',
    });
  }

  const total = notebookBytes(ctx.text);
  if (total > LARGE_NOTEBOOK_BYTES) {
    ctx.report({
      rule: 'HY-004',
      message: `The notebook is ${mb(total)} (limit 10 MB).`,
      location: { pointer: '' },
      fix: `${STRIP_FIX} Move data and images into files the notebook reads.`,
    });
  }

  if (volatile.size > 0) {
    const parts = [...volatile].map(([key, v]) =>
      key === 'signature' ? 'signature' : `${key} (${v.count} cell${v.count === 1 ? '' : 's'})`,
    );
    const first = [...volatile.values()][0]!;
    const location =
      first.cell === undefined ? { pointer: first.pointer } : { pointer: first.pointer, cell: first.cell };
    ctx.report({
      rule: 'HY-005',
      message: `The notebook carries volatile editor metadata: ${parts.join(', ')}; it changes whenever the notebook is opened or run.`,
      location,
      fix: 'Strip it with nbstripout (it removes these keys and keeps tags such as `parameters`); nb-clean also works but by default removes all cell metadata, tags included.',
    });
  }

  if (emptyCells.length > 0) {
    const list = emptyCells.slice(0, 10).join(', ') + (emptyCells.length > 10 ? ', …' : '');
    const first = emptyCells[0]!;
    ctx.report({
      rule: 'HY-006',
      message: `${emptyCells.length} empty code cell${emptyCells.length === 1 ? '' : 's'} (cell${emptyCells.length === 1 ? '' : 's'} ${list}).`,
      location: { pointer: `/cells/${first}/source`, cell: first },
      fix: 'Delete the empty code cells.',
    });
  }
}

export const hygieneFamily: RuleFamilyModule = { family: 'hygiene', rules: hygieneRules, check };
