/**
 * Errors shaped like the ones the SageMaker API returns through the AWS SDK (name = AWS error
 * code, `$fault`, `$metadata.httpStatusCode`, the service's own message text), so
 * core/aws/errors.ts classifies a local failure exactly as it would the real one.
 *
 * Messages follow what SageMaker answers (as seen in public error reports):
 * - CreateTrainingJob, duplicate name: ResourceInUse "Training job names must be unique within an
 *   AWS account and region, and a training job with this name already exists (<arn>)"
 * - CreateModel / CreateEndpointConfig / CreateEndpoint, duplicate: ValidationException
 *   `Cannot create already existing model "<arn>".` (endpoint configuration, endpoint)
 * - a missing model / config / endpoint: ValidationException `Could not find model "<arn>".`
 * - UpdateEndpoint while it is not InService: ValidationException `Cannot update in-progress endpoint "<arn>".`
 */

export type SageMakerErrorCode = 'ValidationException' | 'ResourceInUse' | 'ResourceNotFound';

export class SageMakerError extends Error {
  readonly $fault = 'client' as const;
  readonly $metadata: { httpStatusCode: number; requestId: string };
  constructor(
    readonly code: SageMakerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: 400, requestId: 'local' };
  }
}

export const sageMakerErrors = {
  trainingJobExists: (arn: string) =>
    new SageMakerError(
      'ResourceInUse',
      `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${arn})`,
    ),
  trainingJobNotFound: () => new SageMakerError('ResourceNotFound', 'Requested resource not found.'),
  alreadyExists: (what: 'model' | 'endpoint configuration' | 'endpoint', arn: string) =>
    new SageMakerError('ValidationException', `Cannot create already existing ${what} "${arn}".`),
  notFound: (what: 'model' | 'endpoint configuration' | 'endpoint', arn: string) =>
    new SageMakerError('ValidationException', `Could not find ${what} "${arn}".`),
  updateInProgress: (arn: string) =>
    new SageMakerError('ValidationException', `Cannot update in-progress endpoint "${arn}".`),
  invalid: (message: string) => new SageMakerError('ValidationException', message),
};
