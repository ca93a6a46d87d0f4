/**
 * Finding a notebook's manifest: notebook metadata key `nbops` (one object = one atomic
 * submission), else a sidecar `<name>.nbops.yaml|.yml|.json` uploaded first. Also recognises
 * manifests put in the wrong place, so users learn where it must go instead of "no manifest".
 *
 * readManifest reports MAN-001 (none), MAN-002 (sidecar syntax), MAN-008 (wrong place) and MAN-009
 * (two manifests); the manifest rule family checks the content of the source it returns.
 */
import { LineCounter, parseDocument } from 'yaml';
import { cellSource, cellsOf, cellType, isRecord, pointerToken } from '#core/notebook/notebook';
import type { ManifestSource } from '#core/validation/family';
import type { Finding } from '#core/validation/finding';
import { lineIndex, MAX_YAML_DEPTH, nestingTooDeep } from './yaml-lines';

export type { ManifestSource } from '#core/validation/family';

export interface Sidecar {
  path: string;
  text: string;
}

export interface ReadResult {
  source?: ManifestSource;
  findings: Finding[];
}

const WHERE_IT_GOES =
  'Put the manifest in the notebook metadata under the key "nbops" (JupyterLab: Property Inspector > Notebook metadata), or in a sidecar <notebook>.nbops.yaml beside the notebook; `nbops manifest embed <notebook.ipynb> <manifest.yaml>` writes a sidecar into the metadata for you.';

/** Reads the manifest of `notebook` (parsed JSON, any shape) and optional sidecar. Never throws. */
export function readManifest(notebook: unknown, sidecar?: Sidecar): ReadResult {
  const findings: Finding[] = [];
  const metadata = isRecord(notebook) && isRecord(notebook.metadata) ? notebook.metadata : undefined;
  const misplaced = findMisplaced(notebook);

  if (metadata && metadata.nbops !== undefined) {
    if (sidecar)
      findings.push({
        rule: 'MAN-009',
        severity: 'warning',
        message: `The notebook has a manifest in metadata.nbops and a sidecar ${sidecar.path}; metadata.nbops is used and the sidecar is ignored.`,
        location: { pointer: '', file: sidecar.path, line: 1 },
        fix: `Keep one manifest: delete ${sidecar.path}, or remove metadata.nbops from the notebook so the sidecar is used.`,
      });
    findings.push(...misplaced.map((m) => misplacedFinding(m, 'warning')));
    return { source: { origin: 'metadata', pointer: '/metadata/nbops', raw: metadata.nbops }, findings };
  }

  if (sidecar) {
    const parsed = parseSidecar(sidecar);
    findings.push(...parsed.findings);
    if (parsed.source) findings.push(...misplaced.map((m) => misplacedFinding(m, 'warning')));
    return parsed.source ? { source: parsed.source, findings } : { findings };
  }

  if (misplaced.length > 0) {
    findings.push(...misplaced.map((m) => misplacedFinding(m, 'error')));
    return { findings };
  }
  findings.push({
    rule: 'MAN-001',
    severity: 'error',
    message:
      'The notebook has no manifest: metadata.nbops is missing and no sidecar <notebook>.nbops.yaml was given.',
    location: { pointer: isRecord(notebook) && isRecord(notebook.metadata) ? '/metadata' : '' },
    fix: `${WHERE_IT_GOES} See docs/manifest.md for the fields.`,
  });
  return { findings };
}

/** A new notebook whose metadata.nbops is `manifest` (the rest is shared, not copied). */
export function embedManifest(notebookJson: unknown, manifest: unknown): unknown {
  if (!isRecord(notebookJson)) throw new Error('cannot embed a manifest: the notebook is not a JSON object');
  const metadata = isRecord(notebookJson.metadata) ? { ...notebookJson.metadata } : {};
  metadata.nbops = manifest;
  return { ...notebookJson, metadata };
}

interface Misplaced {
  pointer: string;
  cell?: number;
  where: string;
}

const looksLikeManifest = (v: unknown) => isRecord(v) && v.apiVersion === 'nbops/v1';
/** `NBOps`, `nb_ops`, `nbops-manifest`, `manifest`... */
const manifestishKey = (key: string) => {
  const k = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  return k === 'nbops' || k === 'nbopsmanifest';
};
const NBFORMAT_KEYS = new Set(['metadata', 'nbformat', 'nbformat_minor', 'cells']);
const RAW_CELL_MANIFEST = /^\s*apiVersion\s*:\s*["']?nbops\/v1/m;

function findMisplaced(notebook: unknown): Misplaced[] {
  if (!isRecord(notebook)) return [];
  const found: Misplaced[] = [];
  for (const [key, value] of Object.entries(notebook)) {
    if (NBFORMAT_KEYS.has(key)) continue;
    if (manifestishKey(key) || looksLikeManifest(value))
      found.push({
        pointer: `/${pointerToken(key)}`,
        where: `a top-level "${key}" key of the notebook file`,
      });
  }
  if (isRecord(notebook.metadata)) {
    for (const [key, value] of Object.entries(notebook.metadata)) {
      if (key === 'nbops') continue;
      if (manifestishKey(key) || looksLikeManifest(value)) {
        found.push({ pointer: `/metadata/${pointerToken(key)}`, where: `metadata.${key}` });
      } else if (isRecord(value) && value.nbops !== undefined) {
        found.push({ pointer: `/metadata/${pointerToken(key)}/nbops`, where: `metadata.${key}.nbops` });
      }
    }
  }
  cellsOf(notebook).forEach((cell, index) => {
    if (!isRecord(cell)) return;
    if (isRecord(cell.metadata) && cell.metadata.nbops !== undefined) {
      found.push({
        pointer: `/cells/${index}/metadata/nbops`,
        cell: index,
        where: `the metadata of cell ${index}`,
      });
    } else if (cellType(cell) === 'raw') {
      const source = cellSource(cell);
      if (source !== undefined && RAW_CELL_MANIFEST.test(source.slice(0, 65_536)))
        found.push({ pointer: `/cells/${index}/source`, cell: index, where: `raw cell ${index}` });
    }
  });
  return found;
}

function misplacedFinding(m: Misplaced, severity: 'error' | 'warning'): Finding {
  const location = m.cell === undefined ? { pointer: m.pointer } : { pointer: m.pointer, cell: m.cell };
  return severity === 'error'
    ? {
        rule: 'MAN-008',
        severity,
        message: `A manifest is in ${m.where}, where nbops does not read it; it must be in the notebook metadata under "nbops".`,
        location,
        fix: `Move it: ${WHERE_IT_GOES}`,
      }
    : {
        rule: 'MAN-008',
        severity,
        message: `${m.where} holds another manifest, which nbops ignores.`,
        location,
        fix: 'Remove it, so the only manifest is the one nbops uses (metadata.nbops or the sidecar).',
      };
}

function parseSidecar(sidecar: Sidecar): ReadResult {
  const file = sidecar.path;
  if (nestingTooDeep(sidecar.text))
    return {
      findings: [
        {
          rule: 'MAN-002',
          severity: 'error',
          message: `${file} nests more than ${MAX_YAML_DEPTH} levels deep; a manifest needs fewer than 10.`,
          location: { pointer: '', file },
          fix: 'Write the sidecar as a plain manifest (see docs/manifest.md); nothing in it nests deeply.',
        },
      ],
    };
  const lineCounter = new LineCounter();
  let doc: ReturnType<typeof parseDocument>;
  let raw: unknown;
  try {
    doc = parseDocument(sidecar.text, { lineCounter, prettyErrors: true, uniqueKeys: true, version: '1.2' });
    if (/\.json$/i.test(file)) {
      // JSON is read as JSON (YAML rejects tab indentation that JSON allows); YAML only maps lines.
      const json = parseJson(sidecar.text, file, doc.errors[0]?.linePos?.[0].line);
      if (!json.ok) return { findings: [json.finding] };
      raw = json.value;
    } else if (doc.errors.length > 0) {
      const lines = sidecar.text.split(/\r?\n/, 200_000);
      return {
        findings: doc.errors.slice(0, 20).map((error) => {
          const line = error.linePos?.[0].line;
          const snippet = line === undefined ? undefined : lines[line - 1]?.slice(0, 200);
          const finding: Finding = {
            rule: 'MAN-002',
            severity: 'error',
            message: `${file} is not valid YAML${line === undefined ? '' : ` (line ${line})`}: ${firstLine(error.message)}`,
            location: line === undefined ? { pointer: '', file } : { pointer: '', file, line },
            fix: 'Fix the YAML syntax at that line (indent with spaces, quote values containing ": " or "#", one key per line).',
          };
          if (snippet !== undefined) finding.snippet = snippet;
          return finding;
        }),
      };
    } else {
      raw = doc.toJS({ maxAliasCount: 100 });
    }
  } catch (err) {
    // Alias bombs and pathological nesting end here instead of crashing the validator.
    return {
      findings: [
        {
          rule: 'MAN-002',
          severity: 'error',
          message: `${file} could not be read as YAML: ${firstLine(err instanceof Error ? err.message : String(err))}`,
          location: { pointer: '', file },
          fix: 'Write the sidecar as plain YAML or JSON: no anchors/aliases, no deep nesting.',
        },
      ],
    };
  }
  if (isRecord(raw) && raw.apiVersion === undefined && isRecord(raw.nbops)) {
    return {
      findings: [
        {
          rule: 'MAN-008',
          severity: 'error',
          message: `${file} has its manifest under a top-level "nbops:" key; in a sidecar the manifest fields are the top level.`,
          location: { pointer: '/nbops', file, line: lineIndex(doc, lineCounter).lineOf('/nbops') ?? 1 },
          fix: 'Remove the "nbops:" line and un-indent its fields, so the file starts with apiVersion: nbops/v1.',
        },
      ],
    };
  }
  const index = lineIndex(doc, lineCounter);
  return { source: { origin: 'sidecar', pointer: '', file, raw, lineOf: index.lineOf }, findings: [] };
}

/** `yamlLine`: where the YAML parser (JSON is YAML 1.2) saw the first error, when it saw one. */
function parseJson(
  text: string,
  file: string,
  yamlLine: number | undefined,
): { ok: true; value: unknown } | { ok: false; finding: Finding } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    const message = firstLine(err instanceof Error ? err.message : String(err));
    const position = /position (\d+)/.exec(message);
    const lineMatch = /line (\d+)/.exec(message);
    const line = lineMatch
      ? Number(lineMatch[1])
      : position
        ? text.slice(0, Number(position[1])).split('\n').length
        : yamlLine;
    return {
      ok: false,
      finding: {
        rule: 'MAN-002',
        severity: 'error',
        message: `${file} is not valid JSON: ${message}`,
        location: line === undefined ? { pointer: '', file } : { pointer: '', file, line },
        fix: 'Fix the JSON syntax (double-quoted keys and strings, no trailing commas), or write the sidecar as YAML.',
      },
    };
  }
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
