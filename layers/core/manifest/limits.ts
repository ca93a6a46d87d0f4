/**
 * Limits that come from SageMaker (see the API model and the developer guide) and the share of
 * them nbops keeps for itself. The manifest rules report against these; request builders use them.
 */

/** SageMaker allows 100 HyperParameters; nbops passes a few of its own. */
export const MAX_HYPERPARAMETERS = 100;
export const MAX_USER_PARAMETERS = 90;
/** The API model allows 2500 per value, but the documentation says 256: nbops keeps to 256. */
export const MAX_HYPERPARAMETER_VALUE_LENGTH = 256;
/**
 * Parameter names nbops and the SageMaker training toolkit read themselves (`sagemaker_program`,
 * ...); a notebook parameter with such a name would be overwritten or misread.
 */
export const RESERVED_PARAMETER_PREFIXES = ['nbops_', 'sagemaker_'] as const;

/** Input channels nbops adds to every training job. */
export const RESERVED_CHANNEL_NAMES = ['notebook', 'nbops-runtime', 'model', 'output'] as const;
/** SageMaker allows 20 input channels; nbops uses the reserved ones. */
export const MAX_DATA_CHANNELS = 20 - RESERVED_CHANNEL_NAMES.length;

/** StoppingCondition.MaxRuntimeInSeconds upper bound: 28 days. */
export const MAX_TRAINING_RUNTIME_SECONDS = 28 * 86_400;
/** TrafficRoutingConfiguration.WaitIntervalInSeconds: 0-3600. */
export const MAX_BAKE_SECONDS = 3_600;
/** BlueGreenUpdatePolicy.MaximumExecutionTimeoutInSeconds: 600-28800, and it must exceed all waits. */
export const MAX_DEPLOYMENT_SECONDS = 28_800;

/** How a parameter value reaches SageMaker: every HyperParameter is a string, so values are JSON-encoded. */
export function encodeHyperParameter(value: string | number | boolean | null): string {
  return JSON.stringify(value);
}
