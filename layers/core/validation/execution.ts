/**
 * Execution readiness (EX-*): will the notebook run headless, the way nbops runs it (papermill
 * conventions: a `parameters` cell, injected values after it, no person at the keyboard)?
 */
import { cellsOf, cellTags, cellType, isRecord } from '#core/notebook/notebook';
import { installsIn } from '#core/notebook/python/install';
import {
  type CodeCell,
  kernelLanguage,
  lineLocation,
  lineSnippet,
  notebookCode,
  resolveName,
} from '#core/notebook/python/notebook-code';
import type { ProblemKind } from '#core/notebook/python-syntax';
import type { CheckContext, RuleFamilyModule } from './family';
import type { Location, RuleSpec } from './finding';

export const executionRules: RuleSpec[] = [
  {
    id: 'EX-001',
    family: 'execution',
    defaultSeverity: 'error',
    title: 'One code cell tagged `parameters`, no stale `injected-parameters` cell',
    rationale:
      'nbops injects the manifest parameters after the first code cell tagged `parameters` (papermill convention). ' +
      'Without that cell the values have nowhere to go; a second tagged cell, a tagged markdown cell or a leftover ' +
      '`injected-parameters` cell from an earlier papermill run silently changes which values the run uses.',
  },
  {
    id: 'EX-003',
    family: 'execution',
    defaultSeverity: 'error',
    title: 'Code cells parse as Python (IPython magics and shell escapes allowed)',
    rationale:
      'A cell that does not parse stops a headless run at that cell, after paying for the instance. The check ' +
      'reads cells the way IPython runs them: `%magic`, `!cmd`, `x = !cmd`, `obj?` and Python-bodied cell ' +
      'magics such as `%%time` are accepted; cells under other cell magics (`%%bash`, `%%sql`) are not checked.',
  },
  {
    id: 'EX-004',
    family: 'execution',
    defaultSeverity: 'warning',
    title: 'No package installs inside the notebook',
    rationale:
      '`%pip install` / `!pip install` / `%conda install` change the environment of a running kernel; packages ' +
      'already imported need a kernel restart, which a headless run cannot do, and every run downloads again. ' +
      'Dependencies belong in the training image or a requirements file installed with it.',
  },
  {
    id: 'EX-005',
    family: 'execution',
    defaultSeverity: 'info',
    title: 'Cells tagged `skip-execution` or `raises-exception`',
    rationale:
      'nbops honours these nbclient tags: a `skip-execution` cell is not run, and an error in a ' +
      '`raises-exception` cell does not stop the run. Listed so that nobody is surprised by either.',
  },
  {
    id: 'EX-006',
    family: 'execution',
    defaultSeverity: 'warning',
    title: 'A runtime limit is set (training.maxRuntime)',
    rationale:
      'papermill has no execution timeout by default; only the training job`s MaxRuntimeInSeconds stops a ' +
      'notebook that hangs. Without training.maxRuntime nbops applies a 1 hour default, which may be too short ' +
      'for real training or far too long for a stuck one.',
  },
  {
    id: 'EX-007',
    family: 'execution',
    defaultSeverity: 'warning',
    title: 'No interactive calls (input, getpass, ipywidgets interact, breakpoints)',
    rationale:
      'Nobody answers a prompt in a training job: `input()` and `getpass()` fail (papermill raises ' +
      'StdinNotImplementedError) or wait until the runtime limit, debugger breakpoints stop the same way, and ' +
      'ipywidgets `interact` only ever runs with its default values. `plt.show()` is fine.',
  },
  {
    id: 'EX-008',
    family: 'execution',
    defaultSeverity: 'error',
    title: 'The kernel is Python',
    rationale: 'The nbops runtime executes Python notebooks; a notebook for another kernel cannot run.',
  },
];

/** The manifest fields this family reads (the generated Manifest type has more). */
interface ManifestView {
  parameters?: Record<string, unknown>;
  training?: { maxRuntime?: unknown };
}

const DEFAULT_MAX_RUNTIME = '1 hour (3600 s)';

function tagPointer(cell: unknown, index: number, tag: string): string {
  const tags = isRecord(cell) && isRecord(cell.metadata) ? cell.metadata.tags : undefined;
  const at = Array.isArray(tags) ? tags.indexOf(tag) : -1;
  return at === -1 ? `/cells/${index}/metadata/tags` : `/cells/${index}/metadata/tags/${at}`;
}

function checkParametersCell(ctx: CheckContext, manifest: ManifestView | undefined): void {
  const cells = cellsOf(ctx.notebook);
  let firstCode: number | undefined;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    const tags = cellTags(cell);
    if (tags.includes('injected-parameters')) {
      ctx.report({
        rule: 'EX-001',
        message: `Cell ${i} is a leftover \`injected-parameters\` cell from an earlier papermill run; nbops injects its own, so these stale values would run as well.`,
        location: { pointer: tagPointer(cell, i, 'injected-parameters'), cell: i },
        fix: `Delete cell ${i} (and keep the defaults in the cell tagged \`parameters\`).`,
      });
    }
    if (!tags.includes('parameters')) continue;
    const type = cellType(cell);
    if (type !== 'code') {
      ctx.report({
        rule: 'EX-001',
        message: `Cell ${i} is a ${type ?? 'malformed'} cell tagged \`parameters\`; parameters must be assigned in a code cell.`,
        location: { pointer: tagPointer(cell, i, 'parameters'), cell: i },
        fix: `Remove the \`parameters\` tag from cell ${i} and put it on the code cell that assigns the default parameter values.`,
      });
      continue;
    }
    if (firstCode === undefined) {
      firstCode = i;
      continue;
    }
    ctx.report({
      rule: 'EX-001',
      message: `Cell ${i} is a second code cell tagged \`parameters\`; nbops (like papermill) injects values after the first one, cell ${firstCode}, so assignments here would override them.`,
      location: { pointer: tagPointer(cell, i, 'parameters'), cell: i },
      fix: `Remove the \`parameters\` tag from cell ${i} and move its default assignments into cell ${firstCode}.`,
    });
  }
  const declared =
    manifest?.parameters && isRecord(manifest.parameters) ? Object.keys(manifest.parameters) : [];
  if (firstCode === undefined && declared.length > 0) {
    const names = declared.slice(0, 5).join(', ') + (declared.length > 5 ? ', …' : '');
    ctx.report({
      rule: 'EX-001',
      message: `The manifest declares parameters (${names}) but no code cell is tagged \`parameters\`, so nbops has nowhere to inject them.`,
      location: { pointer: '/cells' },
      fix: 'Tag the code cell that assigns the default values (e.g. `epochs = 10`) with `parameters` (JupyterLab: Property Inspector > Cell Tags).',
    });
  }
}

const SYNTAX_FIXES: Record<ProblemKind, string> = {
  string: 'Close the string with the same quote that opens it (use triple quotes for text spanning lines).',
  fstring:
    'Fix the f-string: every `{` needs an expression and a matching `}`; write `{{` / `}}` for literal braces.',
  bracket: 'Balance the brackets: every `(`, `[` and `{` needs its own matching closer.',
  indent: 'Indent the block consistently (4 spaces per level) so each line lines up with its statement.',
  tab: 'Indent with spaces only (or tabs only): the mix is ambiguous to Python.',
  colon: 'Add the `:` that ends the statement header.',
  block: 'Indent the block under the statement (add `pass` if it is meant to be empty).',
  clause:
    'Attach the clause to its statement: `elif`/`else` follow an `if` (or loop), `except`/`finally` follow a `try`.',
  python2: 'Use Python 3 syntax: call print(...) / exec(...) as functions.',
  character: 'Replace the character: typographic quotes and non-breaking spaces often come from copy-paste.',
  continuation:
    'Nothing may follow a line-continuation backslash; remove it or wrap the expression in parentheses.',
  number: 'Write octal numbers with an 0o prefix (0o777) or drop the leading zeros.',
  syntax: 'Fix the Python syntax on this line.',
};

function checkSyntax(ctx: CheckContext, cells: CodeCell[]): void {
  for (const cell of cells) {
    const problem = cell.problem;
    if (!problem) continue;
    const finding = {
      rule: 'EX-003',
      message: `cell ${cell.index}, line ${problem.line}, column ${problem.col}: ${problem.message}`,
      location: lineLocation(cell, problem.line),
      fix: `${SYNTAX_FIXES[problem.kind]} The cell must parse for the notebook to run headless.`,
    };
    const snippet = lineSnippet(cell, problem.line);
    ctx.report(snippet === undefined ? finding : { ...finding, snippet });
  }
}

function checkInstalls(ctx: CheckContext, cells: CodeCell[]): void {
  for (const cell of cells) {
    for (const command of cell.commands) {
      for (const install of installsIn(command)) {
        const what = install.tool === 'conda' ? 'conda' : 'pip';
        const finding = {
          rule: 'EX-004',
          message: `cell ${cell.index}, line ${command.line} installs packages with ${what} while the notebook runs (\`${install.text}\`); packages already imported need a kernel restart, which a headless run cannot do.`,
          location: lineLocation(cell, command.line),
          fix: 'Move these packages into the training image or a requirements file installed with it, and delete the install line.',
        };
        const snippet = lineSnippet(cell, command.line);
        ctx.report(snippet === undefined ? finding : { ...finding, snippet });
      }
    }
  }
}

function checkTags(ctx: CheckContext): void {
  const cells = cellsOf(ctx.notebook);
  for (let i = 0; i < cells.length; i++) {
    const tags = cellTags(cells[i]);
    if (tags.includes('skip-execution')) {
      ctx.report({
        rule: 'EX-005',
        message: `Cell ${i} is tagged \`skip-execution\`: nbops will not run it.`,
        location: { pointer: tagPointer(cells[i], i, 'skip-execution'), cell: i },
        fix: `Nothing to do if cell ${i} should not run; otherwise remove the \`skip-execution\` tag.`,
      });
    }
    if (tags.includes('raises-exception')) {
      ctx.report({
        rule: 'EX-005',
        message: `Cell ${i} is tagged \`raises-exception\`: an error there is expected and will not stop the run.`,
        location: { pointer: tagPointer(cells[i], i, 'raises-exception'), cell: i },
        fix: `Nothing to do if cell ${i} is meant to fail; otherwise remove the \`raises-exception\` tag so errors there stop the run.`,
      });
    }
  }
}

function checkRuntimeLimit(ctx: CheckContext, manifest: ManifestView | undefined): void {
  const source = ctx.manifest;
  if (!source || !manifest) return;
  const training = isRecord(manifest.training) ? manifest.training : undefined;
  const maxRuntime = training?.maxRuntime;
  if (maxRuntime !== undefined && maxRuntime !== null && maxRuntime !== '') return;
  const pointer = training ? `${source.pointer}/training` : source.pointer;
  const location: Location = { pointer };
  if (source.file) location.file = source.file;
  const line = source.lineOf?.(pointer);
  if (line !== undefined) location.line = line;
  ctx.report({
    rule: 'EX-006',
    message: `The manifest sets no training.maxRuntime, so nbops applies the default limit of ${DEFAULT_MAX_RUNTIME}; papermill itself has no timeout, so this limit is all that stops a hung notebook.`,
    location,
    fix: 'Set training.maxRuntime to a little more than the training should take, e.g. "maxRuntime": "4h".',
  });
}

interface InteractiveCall {
  what: string;
  why: string;
  fix: string;
}

const PROMPT: Omit<InteractiveCall, 'what'> = {
  why: 'waits for a person to type; a headless run has none, so it fails (papermill raises StdinNotImplementedError) or waits until the runtime limit',
  fix: 'Read the value from a parameter (assign a default in the `parameters` cell and declare it in the manifest) or from an environment variable.',
};
const DEBUGGER: Omit<InteractiveCall, 'what'> = {
  why: 'stops in the debugger waiting for commands, which never come in a headless run',
  fix: 'Remove the breakpoint before submitting the notebook.',
};
const WIDGET: Omit<InteractiveCall, 'what'> = {
  why: 'shows widgets for a person to move; headless it runs only with the default values (interact_manual never runs)',
  fix: 'Call the function directly with explicit arguments (taken from parameters if they should vary).',
};

function interactiveCall(name: string, widgetsImported: boolean): InteractiveCall | undefined {
  switch (name) {
    case 'input':
    case 'getpass':
    case 'getpass.getpass':
      return { what: `${name}()`, ...PROMPT };
    case 'breakpoint':
    case 'pdb.set_trace':
    case 'ipdb.set_trace':
    case 'IPython.core.debugger.set_trace':
      return { what: `${name}()`, ...DEBUGGER };
  }
  const last = name.slice(name.lastIndexOf('.') + 1);
  if (
    (last === 'interact' || last === 'interact_manual') &&
    (name.startsWith('ipywidgets') || widgetsImported)
  ) {
    return { what: `ipywidgets ${last}()`, ...WIDGET };
  }
  return undefined;
}

function checkInteractive(ctx: CheckContext, cells: CodeCell[], imports: Map<string, string>): void {
  const widgetsImported = [...imports.values()].some((m) => m.startsWith('ipywidgets'));
  const getpassImported = imports.get('getpass');
  for (const cell of cells) {
    for (const call of cell.calls) {
      if (call.deferred) continue;
      const name = resolveName(call.dotted, imports);
      // `getpass` imported as a module means `getpass(` is not the function.
      if (name === 'getpass' && getpassImported === 'getpass') continue;
      const found = interactiveCall(name, widgetsImported);
      if (!found) continue;
      const finding = {
        rule: 'EX-007',
        message: `cell ${cell.index}, line ${call.line} calls ${found.what}, which ${found.why}.`,
        location: lineLocation(cell, call.line),
        fix: found.fix,
      };
      const snippet = lineSnippet(cell, call.line);
      ctx.report(snippet === undefined ? finding : { ...finding, snippet });
    }
  }
}

function checkKernel(ctx: CheckContext): boolean {
  const language = kernelLanguage(ctx.notebook);
  if (language.python) return true;
  ctx.report({
    rule: 'EX-008',
    message: `The notebook's kernel language is ${JSON.stringify(language.name)} (${language.pointer}); the nbops runtime executes Python notebooks only.`,
    location: { pointer: language.pointer ?? '/metadata' },
    fix: 'Use a Python 3 kernel for the model notebook (port the code, or call the other language from Python).',
  });
  return false;
}

export const executionFamily: RuleFamilyModule = {
  family: 'execution',
  rules: executionRules,
  check(ctx: CheckContext): void {
    const manifest = ctx.manifest?.value as unknown as ManifestView | undefined;
    checkParametersCell(ctx, manifest);
    checkTags(ctx);
    checkRuntimeLimit(ctx, manifest);
    if (!checkKernel(ctx)) return;
    const code = notebookCode(ctx.notebook);
    checkSyntax(ctx, code.cells);
    checkInstalls(ctx, code.cells);
    checkInteractive(ctx, code.cells, code.imports);
  },
};
