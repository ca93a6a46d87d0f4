/**
 * The wiring table: which event pattern or schedule reaches which handler. It is data, read by both
 * hosts: the CDK stack turns each route into an EventBridge rule (or schedule) targeting the
 * handler's function, and the local host dispatches the same events in-process with
 * matchesPattern below. A handler never knows which host delivered its event.
 */

/**
 * Every handler nbops has or will have, one folder each under functions/. A handler gets a route
 * (and so a function in the AWS stack) once its folder exists; `ops-api` is not routed by events:
 * it sits behind an IAM-authenticated URL (infra addOpsApi).
 */
export const HANDLERS = [
  'submit',
  'training-state',
  'deploy',
  'endpoint-state',
  'drift',
  'alarm',
  'ops-api',
  'sweeper',
] as const;
export type HandlerName = (typeof HANDLERS)[number];

/** `source` of the events nbops itself puts on the bus. */
export const NBOPS_EVENT_SOURCE = 'nbops';

/** detail-types of nbops's own events (schemas in schemas/events/). */
export const NBOPS_EVENTS = {
  versionApproved: 'Version Approved',
  retrainRequested: 'Retrain Requested',
  versionStatusChanged: 'Version Status Changed',
  /**
   * A model's drift evaluation is due: put on the bus by the model's drift schedule (EventBridge
   * Scheduler on AWS, a timer locally), or by an operator to evaluate now.
   */
  driftEvaluationDue: 'Drift Evaluation Due',
} as const;

/** Prefix of every CloudWatch alarm nbops creates, so the alarm route only sees its own alarms. */
export const ALARM_NAME_PREFIX = 'nbops-';

/** Key prefix under which teams upload notebooks: `notebooks/<model>/<name>.ipynb`. */
export const NOTEBOOK_PREFIX = 'notebooks/';

/** An EventBridge event pattern (the subset nbops uses: exact values, prefix, exists). */
export type EventPattern = { [field: string]: PatternValue };
type PatternValue = readonly (string | number | boolean | null | PatternOperator)[] | EventPattern;
type PatternOperator = { prefix: string } | { exists: boolean } | { 'anything-but': readonly string[] };

export interface EventRoute {
  id: string;
  handler: HandlerName;
  description: string;
  kind: 'event';
  pattern: EventPattern;
}

export interface ScheduleRoute {
  id: string;
  handler: HandlerName;
  description: string;
  kind: 'schedule';
  /** EventBridge schedule expression, UTC. */
  schedule: string;
}

export type Route = EventRoute | ScheduleRoute;

export interface WiringParams {
  /** The artifact bucket teams upload notebooks to. */
  bucketName: string;
}

export function routes({ bucketName }: WiringParams): Route[] {
  return [
    {
      id: 'notebook-uploaded',
      handler: 'submit',
      description: 'A notebook (or sidecar manifest) uploaded under notebooks/: validate, register, train.',
      kind: 'event',
      pattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: [bucketName] }, object: { key: [{ prefix: NOTEBOOK_PREFIX }] } },
      },
    },
    {
      id: 'training-job-state',
      handler: 'training-state',
      description: 'A training job finished: record metrics, evaluate gates, ask for approval or deploy.',
      kind: 'event',
      pattern: {
        source: ['aws.sagemaker'],
        'detail-type': ['SageMaker Training Job State Change'],
        detail: { TrainingJobStatus: ['Completed', 'Failed', 'Stopped'] },
      },
    },
    {
      id: 'version-approved',
      handler: 'deploy',
      description: 'A version was approved (by an operator or the auto policy): deploy it.',
      kind: 'event',
      pattern: { source: [NBOPS_EVENT_SOURCE], 'detail-type': [NBOPS_EVENTS.versionApproved] },
    },
    {
      id: 'endpoint-state',
      handler: 'endpoint-state',
      description: 'An endpoint or its blue/green deployment changed state: deployed, rolled back or failed.',
      kind: 'event',
      pattern: {
        source: ['aws.sagemaker'],
        'detail-type': ['SageMaker Endpoint State Change', 'SageMaker Endpoint Deployment State Change'],
      },
    },
    {
      id: 'retrain-requested',
      handler: 'submit',
      description: 'A retrain was requested (drift policy or operator): train the champion’s notebook again.',
      kind: 'event',
      pattern: { source: [NBOPS_EVENT_SOURCE], 'detail-type': [NBOPS_EVENTS.retrainRequested] },
    },
    {
      id: 'drift-evaluation-due',
      handler: 'drift',
      description:
        'A model’s drift schedule ran (or an operator asked): evaluate the captured traffic against the training baseline.',
      kind: 'event',
      pattern: { source: [NBOPS_EVENT_SOURCE], 'detail-type': [NBOPS_EVENTS.driftEvaluationDue] },
    },
    {
      id: 'alarm-state',
      handler: 'alarm',
      description:
        'An nbops alarm changed state: record the incident, notify with context, roll back or retrain as the policy says.',
      kind: 'event',
      pattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { alarmName: [{ prefix: ALARM_NAME_PREFIX }] },
      },
    },
    {
      id: 'stuck-sweep',
      handler: 'sweeper',
      description:
        'Every 15 minutes: send again deployments that had to wait, mark versions stuck in TRAINING/DEPLOYING past their limits, and report them.',
      kind: 'schedule',
      schedule: 'rate(15 minutes)',
    },
  ];
}

/**
 * EventBridge pattern matching for the subset above: every field in the pattern must match; arrays
 * list allowed values (any one), objects recurse, operators prefix / exists / anything-but. An
 * event field that is an array matches when any element matches (EventBridge semantics).
 */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  if (typeof event !== 'object' || event === null) return false;
  const record = event as Record<string, unknown>;
  for (const [field, expected] of Object.entries(pattern)) {
    const actual = record[field];
    if (Array.isArray(expected)) {
      if (!matchesValues(expected, actual)) return false;
    } else if (!matchesPattern(expected as EventPattern, actual)) {
      return false;
    }
  }
  return true;
}

function matchesValues(allowed: readonly unknown[], actual: unknown): boolean {
  const values = Array.isArray(actual) ? actual : [actual];
  return allowed.some((rule) => {
    if (rule !== null && typeof rule === 'object') {
      const op = rule as Record<string, unknown>;
      if ('exists' in op) return op.exists ? actual !== undefined : actual === undefined;
      if ('prefix' in op)
        return values.some((v) => typeof v === 'string' && v.startsWith(op.prefix as string));
      if ('anything-but' in op)
        return actual !== undefined && values.every((v) => !(op['anything-but'] as unknown[]).includes(v));
      return false;
    }
    return values.some((v) => v === rule);
  });
}

/** The routes whose pattern matches an event (the local host's dispatcher). */
export function routesFor(event: unknown, params: WiringParams): EventRoute[] {
  return routes(params).filter(
    (r): r is EventRoute => r.kind === 'event' && matchesPattern(r.pattern, event),
  );
}
