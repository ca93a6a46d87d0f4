/** Catalogue of the nbformat structure rules (NB-*) that the structure family reports. */
import type { RuleSpec } from '../finding';
import { NB_001 } from '../parse';

export { NB_001 };

export const NB_002: RuleSpec = {
  id: 'NB-002',
  family: 'structure',
  defaultSeverity: 'error',
  title: 'Cell ids match the declared nbformat minor version',
  rationale:
    'From nbformat 4.5 every cell must have an id; before 4.5 an id is an unknown key and the notebook is ' +
    'invalid. nbformat repairs missing ids silently on read, so other tools disagree about the file.',
};

export const NB_003: RuleSpec = {
  id: 'NB-003',
  family: 'structure',
  defaultSeverity: 'error',
  title: 'Cell ids are well-formed and unique',
  rationale:
    'A cell id is 1-64 letters, digits, "-" or "_" and unique in the notebook. nbformat renames duplicates ' +
    'silently, which breaks anything that refers to a cell by id; nbops reports them and never rewrites.',
};

export const NB_004: RuleSpec = {
  id: 'NB-004',
  family: 'structure',
  defaultSeverity: 'error',
  title: 'Cells, outputs and metadata have the fields their type requires',
  rationale:
    'Each cell type (code, markdown, raw) and output type (stream, display_data, execute_result, error) has ' +
    'required fields of fixed types and no others. Jupyter, papermill and the training runtime reject or ' +
    'misrender notebooks that break the nbformat schema.',
};

export const NB_005: RuleSpec = {
  id: 'NB-005',
  family: 'structure',
  defaultSeverity: 'error',
  title: 'Cell tags are a list of unique strings without commas',
  rationale:
    'Tags drive execution (papermill\'s "parameters" tag) and nbops rules. The schema requires a list of ' +
    'unique, non-empty strings without commas.',
};

export const NB_006: RuleSpec = {
  id: 'NB-006',
  family: 'structure',
  defaultSeverity: 'error',
  title: 'Kernel metadata is present and complete',
  rationale:
    'metadata.kernelspec needs name and display_name and metadata.language_info needs name. Headless ' +
    'execution picks the kernel from kernelspec; without it nbops must guess (its runtime executes Python).',
};

export const NB_007: RuleSpec = {
  id: 'NB-007',
  family: 'structure',
  defaultSeverity: 'warning',
  title: 'Widget metadata carries its state',
  rationale:
    'A metadata.widgets entry without a "state" key makes GitHub, nbviewer and nbconvert fail to render the ' +
    'notebook. Strip widget metadata or save the widget state.',
};

export const NB_012: RuleSpec = {
  id: 'NB-012',
  family: 'structure',
  defaultSeverity: 'warning',
  title: 'Stream outputs name stdout or stderr',
  rationale:
    'The schema only asks for a string, but Jupyter produces stream outputs for stdout and stderr only; ' +
    'another name means the output was written by hand or by a broken tool.',
};

/** Every rule the structure family reports (NB-001 is shared with the parser). */
export const structureRules: RuleSpec[] = [NB_001, NB_002, NB_003, NB_004, NB_005, NB_006, NB_007, NB_012];
