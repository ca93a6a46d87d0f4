import { readFileSync } from 'node:fs';
import { validateNotebook } from '#core/validation/validate';
import { parseNotebook } from '#core/validation/parse';
const policy = { maxNotebookBytes: 64 * 1024 * 1024 };
for (const f of ['mixed-1MB', 'mixed-10MB', 'mixed-50MB', 'errors-50k']) {
  const bytes = readFileSync(`bench/out/validate/${f}.ipynb`);
  const n = f === 'mixed-50MB' ? 7 : 21;
  const m = (fn: () => unknown) => { fn(); const xs: number[] = []; for (let i = 0; i < n; i++) { const s = performance.now(); fn(); xs.push(performance.now() - s); } xs.sort((a, b) => a - b); return xs[n >> 1]!.toFixed(1); };
  console.log(f, 'parse', m(() => parseNotebook(bytes, { maxBytes: 1e9 })), 'validate', m(() => validateNotebook({ content: bytes, path: 'x', policy })));
}
