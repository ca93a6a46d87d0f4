// Variants of the churn example for the failure stories: the same notebook with one cell changed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '../../..');
export const CHURN = join(REPO, 'examples/churn/churn.ipynb');

// biome-ignore lint/suspicious/noExplicitAny: notebooks are edited field by field
type Notebook = any;

export function churn(edit: (nb: Notebook) => void = () => {}): Notebook {
  const nb = JSON.parse(readFileSync(CHURN, 'utf8'));
  edit(nb);
  return nb;
}

export function autoApproval(nb: Notebook): void {
  nb.metadata.nbops.deployment.approval = 'auto';
}

/** Cell 7 (a markdown cell in the example) becomes code that raises ValueError. */
export function raisesInCell7(nb: Notebook): void {
  const cell = nb.cells[7];
  nb.cells[7] = {
    cell_type: 'code',
    ...(cell.id ? { id: cell.id } : {}),
    execution_count: null,
    metadata: {},
    outputs: [],
    source: [
      '# the split needs a validation share\n',
      'raise ValueError("validation share must be between 0 and 1")\n',
    ],
  };
}

/** The served model's predict_fn raises: every invocation is a 500 model error. */
export function brokenModel(nb: Notebook): void {
  const inference = nb.cells[16];
  const source = (inference.source as string[]).join('');
  const broken = source.replace(
    'def predict_fn(data, model):\n',
    'def predict_fn(data, model):\n    raise RuntimeError("this model version is broken")\n',
  );
  if (broken === source) throw new Error('the example notebook changed: predict_fn not found in cell 16');
  inference.source = broken;
  // The smoke test of the handlers would fail the training: the model is meant to fail in serving.
  nb.cells[20].source = 'print("smoke test skipped")\n';
}

export function toBytes(nb: Notebook): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(nb, null, 1)}\n`);
}
