/**
 * Renders validation results as JSON (for scripts), SARIF 2.1.0 (GitHub code scanning) and text
 * (people). Used by `nbops validate` and by the submit handler, which stores all three beside a version.
 */
import { cellsOf, cellType } from '#core/notebook/notebook';
import type { Finding, Severity } from './finding';
import { locatePointers } from './parse';
import type { ValidationResult, ValidationSummary } from './validate';
import { RULES } from './validate';

export const NBOPS_INFO_URI = 'https://github.com/nbops/nbops';

export interface JsonReport {
  files: { path: string; valid: boolean; summary: ValidationSummary; findings: Finding[] }[];
}

export function toJsonReport(results: readonly ValidationResult[]): JsonReport {
  return {
    files: results.map((r) => ({ path: r.path, valid: r.valid, summary: r.summary, findings: r.findings })),
  };
}

const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  error: 'error',
  warning: 'warning',
  info: 'note',
};

/** File line/column of each finding's pointer (or its own file for sidecar findings). */
function regions(result: ValidationResult): Map<string, { line: number; column: number }> {
  if (!result.text) return new Map();
  const pointers = result.findings
    .filter((f) => !f.location.file && f.location.pointer)
    .map((f) => f.location.pointer);
  return locatePointers(result.text, pointers);
}

/**
 * SARIF 2.1.0. Paths are emitted as given (relative paths resolve against %SRCROOT%, which is what
 * GitHub's upload-sarif expects when nbops runs from the repository root).
 */
export function toSarif(results: readonly ValidationResult[], toolVersion: string): object {
  const usedRules = [...new Set(results.flatMap((r) => r.findings.map((f) => f.rule)))].sort();
  const ruleIndex = new Map(usedRules.map((id, i) => [id, i]));
  const rules = usedRules.map((id) => {
    const spec = RULES.get(id);
    return {
      id,
      name: spec
        ? spec.title.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())
        : id,
      shortDescription: { text: spec?.title ?? id },
      fullDescription: { text: spec?.rationale ?? spec?.title ?? id },
      help: { text: spec ? `${spec.title}. ${spec.rationale}` : id },
      defaultConfiguration: { level: SARIF_LEVEL[spec?.defaultSeverity ?? 'warning'] },
      properties: { tags: spec ? [spec.family] : [] },
    };
  });
  const sarifResults = results.flatMap((result) => {
    const located = regions(result);
    return result.findings.map((f) => {
      const where = f.location.file ? undefined : located.get(f.location.pointer);
      const uri = (f.location.file ?? result.path).replace(/\\/g, '/').replace(/^\.\//, '');
      const logical =
        f.location.cell === undefined ? [] : [{ name: `cell ${f.location.cell}`, kind: 'element' }];
      return {
        ruleId: f.rule,
        ruleIndex: ruleIndex.get(f.rule),
        level: SARIF_LEVEL[f.severity],
        message: { text: `${f.message} Fix: ${f.fix}` },
        locations: [
          {
            physicalLocation: {
              artifactLocation: { uri, uriBaseId: '%SRCROOT%' },
              region: { startLine: where?.line ?? 1, startColumn: where?.column ?? 1 },
            },
            logicalLocations: logical,
            properties: { pointer: f.location.pointer, line: f.location.line },
          },
        ],
        partialFingerprints: { nbopsFinding: `${f.rule}:${f.location.pointer}:${f.location.line ?? 0}` },
      };
    });
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'nbops', informationUri: NBOPS_INFO_URI, version: toolVersion, rules } },
        results: sarifResults,
        columnKind: 'utf16CodeUnits',
      },
    ],
  };
}

export interface TextOptions {
  color: boolean;
  /** Files named on the command line that could not be read (their errors went to stderr). */
  unreadable?: number;
}

const plain = (s: string) => s;
function palette(color: boolean) {
  const wrap = (code: string) => (color ? (s: string) => `\x1b[${code}m${s}\x1b[0m` : plain);
  return {
    red: wrap('31'),
    yellow: wrap('33'),
    blue: wrap('34'),
    dim: wrap('2'),
    bold: wrap('1'),
    green: wrap('32'),
  };
}

/** Text report: findings grouped by cell, the offending line shown (already redacted), a summary line. */
export function toText(results: readonly ValidationResult[], options: TextOptions): string {
  const c = palette(options.color);
  const sevLabel: Record<Severity, string> = {
    error: c.red('error  '),
    warning: c.yellow('warning'),
    info: c.blue('info   '),
  };
  const lines: string[] = [];
  const total = { errors: 0, warnings: 0, infos: 0 };
  for (const result of results) {
    total.errors += result.summary.errors;
    total.warnings += result.summary.warnings;
    total.infos += result.summary.infos;
    const status = result.valid ? c.green('valid') : c.red('invalid');
    lines.push(`${c.bold(result.path)}  ${status}`);
    const cells = cellsOf(result.notebook);
    let currentGroup: string | undefined;
    for (const f of result.findings) {
      const group =
        f.location.file !== undefined
          ? `file ${f.location.file}`
          : f.location.cell !== undefined
            ? `cell ${f.location.cell}${cellType(cells[f.location.cell]) ? ` (${cellType(cells[f.location.cell])})` : ''}`
            : 'notebook';
      if (group !== currentGroup) {
        lines.push(`  ${c.bold(group)}`);
        currentGroup = group;
      }
      if (f.snippet !== undefined) {
        const lineNo = f.location.line === undefined ? '' : String(f.location.line);
        lines.push(`    ${c.dim(`${lineNo.padStart(4)} │`)} ${f.snippet.trimEnd()}`);
      }
      // The line, unless a snippet shows it or the message already names it.
      const line = f.location.line;
      const where =
        line !== undefined && f.snippet === undefined && !new RegExp(`\\bline ${line}\\b`).test(f.message)
          ? ` (line ${line})`
          : '';
      lines.push(`    ${sevLabel[f.severity]} ${c.bold(f.rule)}  ${f.message}${where}`);
      lines.push(`    ${' '.repeat(8)} ${c.dim('fix:')} ${f.fix}`);
      if (!f.snippet && f.location.pointer && f.location.cell === undefined)
        lines.push(`    ${' '.repeat(8)} ${c.dim(`at ${f.location.pointer}`)}`);
    }
    lines.push('');
  }
  const files = results.length === 1 ? '1 file' : `${results.length} files`;
  const unread = options.unreadable ?? 0;
  const summary =
    `${plural(total.errors, 'error')}, ${plural(total.warnings, 'warning')}, ${plural(total.infos, 'info')} in ${files}` +
    (unread > 0 ? `; ${unread === 1 ? '1 file' : `${unread} files`} could not be read` : '');
  // A file that could not be read is not a pass.
  lines.push(total.errors > 0 || unread > 0 ? c.red(`✖ ${summary}`) : c.green(`✔ ${summary}`));
  return `${lines.join('\n')}\n`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 || word === 'info' ? '' : 's'}`;
}
