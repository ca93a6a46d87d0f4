/**
 * The validator's output vocabulary. Every rule family reports Findings through a FindingSink;
 * reports (JSON, SARIF, text) are rendered from them.
 */
export type Severity = 'error' | 'warning' | 'info';

export interface Location {
  /** JSON pointer (RFC 6901) into the notebook, e.g. `/cells/3/source`; `` for the whole file. */
  pointer: string;
  /** 0-based cell index when the finding is about a cell. */
  cell?: number;
  /** 1-based line within the cell's source (or within the text field the pointer names). */
  line?: number;
  /** Set when the pointer refers to another file than the notebook (a sidecar manifest or policy file). */
  file?: string;
}

export interface Finding {
  /** Rule id, e.g. `NB-003`, `SEC-001`, `MAN-010`. */
  rule: string;
  severity: Severity;
  /** What is wrong, naming the field or cell. Never contains a secret in clear. */
  message: string;
  location: Location;
  /** How to fix it, as an instruction a person can follow. */
  fix: string;
  /** The offending line of source/output, shown by text reports; secrets redacted. */
  snippet?: string;
}

export type RuleFamily =
  | 'structure'
  | 'manifest'
  | 'policy'
  | 'execution'
  | 'hygiene'
  | 'reproducibility'
  | 'secrets'
  /** Checked by the service at submission only (upload folder, request buildable). */
  | 'submit';

/** Catalogue entry for a rule: feeds documentation, SARIF rule metadata and policy overrides. */
export interface RuleSpec {
  id: string;
  family: RuleFamily;
  defaultSeverity: Severity;
  /** One line: what the rule checks. */
  title: string;
  /** Why it matters, for docs and SARIF `help`. */
  rationale: string;
}

/** A rule family reports through this; severity defaults to the rule's catalogue severity. */
export type Report = (finding: Omit<Finding, 'severity'> & { severity?: Severity }) => void;

export function findingOrder(a: Finding, b: Finding): number {
  const cellA = a.location.cell ?? -1;
  const cellB = b.location.cell ?? -1;
  if (cellA !== cellB) return cellA - cellB;
  const lineA = a.location.line ?? 0;
  const lineB = b.location.line ?? 0;
  if (lineA !== lineB) return lineA - lineB;
  return a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0;
}
