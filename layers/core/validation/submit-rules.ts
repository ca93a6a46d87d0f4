/**
 * Rules checked when a notebook is submitted to the service, beyond what `nbops validate` can see
 * on its own: where it was uploaded, and whether SageMaker would accept the training request.
 * They live in the validator's catalogue so reports (SARIF levels, docs/rules.md) describe them.
 */
import type { RuleSpec } from './finding';

export const SUB_MODEL_FOLDER = 'SUB-001';
export const SUB_TRAINING_REQUEST = 'SUB-002';

export const submitRules: RuleSpec[] = [
  {
    id: SUB_MODEL_FOLDER,
    family: 'submit',
    defaultSeverity: 'error',
    title: "The manifest's model.name matches the upload folder",
    rationale:
      'The folder notebooks/<model>/ decides which model a version belongs to; a manifest naming another model would train and deploy under a name its authors did not intend.',
  },
  {
    id: SUB_TRAINING_REQUEST,
    family: 'submit',
    defaultSeverity: 'error',
    title: 'The training request can be built and satisfies the SageMaker API',
    rationale:
      'nbops builds CreateTrainingJob from the manifest and checks it against the AWS API model before sending it; a request AWS would refuse is reported at upload, with the field to fix.',
  },
];
