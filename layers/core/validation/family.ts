/**
 * The contract between the validator and its rule families. Each family (structure, manifest,
 * policy, execution, hygiene, reproducibility, secrets) is a module exporting a RuleFamilyModule;
 * validate.ts runs them in order over one CheckContext.
 */
import type { Manifest } from '#core/manifest/manifest.generated';
import type { Policy } from '#core/policy/policy.generated';
import type { Report, RuleFamily, RuleSpec } from './finding';

export interface ManifestSource {
  /** Where the manifest came from: notebook metadata key `nbops`, or a sidecar file. */
  origin: 'metadata' | 'sidecar';
  /** JSON pointer of the manifest root: `/metadata/nbops` in the notebook, `` in a sidecar. */
  pointer: string;
  /** Sidecar path (findings about the manifest then carry `location.file`). */
  file?: string;
  /** The manifest as read, before schema validation. */
  raw: unknown;
  /** Set by the manifest family once `raw` satisfies the schema; later families may rely on it. */
  value?: Manifest;
  /** For sidecar YAML: 1-based line of a JSON pointer inside the sidecar, when known. */
  lineOf?: (pointer: string) => number | undefined;
}

export interface CheckContext {
  /** The parsed notebook JSON. Untrusted: any shape (structure rules report what is wrong). */
  notebook: unknown;
  /** The notebook's JSON text, for locating pointers. */
  text: string;
  manifest?: ManifestSource;
  /** The effective platform policy (defaults applied). */
  policy: Policy;
  report: Report;
}

export interface RuleFamilyModule {
  family: RuleFamily;
  /** Every rule this family can report, with its default severity. */
  rules: RuleSpec[];
  check(ctx: CheckContext): void;
}
