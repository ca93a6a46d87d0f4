/**
 * EventBridge events as AWS delivers them to a rule's target: the envelope (version, id,
 * detail-type, source, account, time, region, resources, detail) around a service's detail. The
 * local host builds every event it dispatches with this, so handlers parse exactly what they get
 * on AWS (see /work/shared/reference/aws.md section 3 and core/wiring.ts).
 */
import { randomUUID } from 'node:crypto';
import { LOCAL_REGION } from './emulators';

/** The account id local resources live in (the one localstack and many AWS samples use). */
export const LOCAL_ACCOUNT = '000000000000';

export interface AwsEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  /** ISO-8601 UTC without milliseconds, like EventBridge writes it. */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** Where local resources say they live: account and Region for ARNs and envelopes. */
export interface AwsLocation {
  account: string;
  region: string;
}

export const LOCAL_LOCATION: AwsLocation = { account: LOCAL_ACCOUNT, region: LOCAL_REGION };

/** EventBridge's `time`: seconds precision, `Z`. */
export function eventTime(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function awsEvent(input: {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  resources?: string[];
  at: Date;
  location?: AwsLocation;
  id?: string;
}): AwsEvent {
  const location = input.location ?? LOCAL_LOCATION;
  return {
    version: '0',
    id: input.id ?? randomUUID(),
    'detail-type': input.detailType,
    source: input.source,
    account: location.account,
    time: eventTime(input.at),
    region: location.region,
    resources: input.resources ?? [],
    detail: input.detail,
  };
}

/**
 * A SageMaker ARN. SageMaker lower-cases the resource name in ARNs (the documented endpoint event
 * shows `endpoint/myendpoint` for `MyEndpoint`), so the local host does too.
 */
export function sageMakerArn(
  location: AwsLocation,
  kind: 'training-job' | 'model' | 'endpoint-config' | 'endpoint',
  name: string,
): string {
  return `arn:aws:sagemaker:${location.region}:${location.account}:${kind}/${name.toLowerCase()}`;
}

/** Epoch milliseconds as a string: how training job events carry timestamps ("1583831889050"). */
export const epochMillisString = (at: Date): string => String(at.getTime());

/** Is this value an AWS-shaped event (enough of the envelope to route it)? */
export function isAwsEvent(value: unknown): value is AwsEvent {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return (
    typeof e.id === 'string' &&
    typeof e.source === 'string' &&
    typeof e['detail-type'] === 'string' &&
    typeof e.detail === 'object' &&
    e.detail !== null
  );
}
