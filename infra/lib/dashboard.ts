/**
 * The nbops dashboard: an on-call section first (what is broken now), then the overview (the
 * pipeline's flow, endpoints, drift, function health).
 *
 * Metrics come from what nbops emits: each handler counts its outcomes as EMF metrics in namespace
 * `nbops`, dimension `service` = handler, named after the outcome kind (`gates-failed` ->
 * `GatesFailed`, functions/commons/handler.ts), plus `Error`, `RetryableError`, `PoisonEvent` and
 * `ConfigError`. Per-model views use CloudWatch Logs Insights over the handlers' JSON logs (every
 * outcome is logged with its model and version) and SEARCH expressions over AWS/SageMaker, so
 * models deployed after this dashboard appear without a redeploy.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import {
  type Alarm,
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IWidget,
  LogQueryVisualizationType,
  LogQueryWidget,
  MathExpression,
  Metric,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DRIFT_METRICS, FEATURE_DIMENSION, MODEL_DIMENSION, NBOPS_NAMESPACE } from '#core/alarms/metrics';
import type { HandlerName } from '#core/wiring';
import type { NbopsFunction } from './function';

export { NBOPS_NAMESPACE };

/** Outcome metrics per handler (outcome kinds of layers/core/service/contracts.ts, PascalCased). */
export const OUTCOME_METRICS: Partial<Record<HandlerName, readonly string[]>> = {
  submit: ['Training', 'Rejected', 'RetrainSubmitted', 'Ignored'],
  'training-state': ['Approved', 'PendingApproval', 'GatesFailed', 'TrainingFailed'],
  deploy: ['Deploying', 'DeployFailed'],
  'endpoint-state': ['Deployed', 'RolledBack', 'DeployFailed'],
  sweeper: ['StuckVersionsMarked'],
  drift: ['Evaluated', 'InsufficientData', 'NoBaseline'],
  // functions/alarm/index.ts counts these per alarm state change.
  alarm: ['Incident', 'Notified', 'Rollback', 'RetrainRequested', 'IncidentsResolved'],
};

/** Failure metrics every handler emits (functions/commons/handler.ts). */
export const FAILURE_METRICS = ['Error', 'RetryableError', 'PoisonEvent', 'ConfigError'] as const;

/**
 * The drift metrics the drift handler emits (layers/core/alarms/metrics.ts): DriftScore per model
 * and feature (dimensions Model, Feature), DatasetDriftShare per model (dimension Model). The
 * dashboard finds them with SEARCH, so models evaluated after this dashboard appear by themselves.
 */
export const DRIFT_SCORE_METRIC = DRIFT_METRICS.score;
export const DRIFT_SHARE_METRIC = DRIFT_METRICS.share;

export interface NbopsDashboardProps {
  functions: readonly NbopsFunction[];
  undeliveredEvents: Queue;
  platformAlarms: readonly Alarm[];
}

export class NbopsDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: NbopsDashboardProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const byName = new Map(props.functions.map((fn) => [fn.handlerName, fn]));
    const logGroups = props.functions.map((fn) => fn.logGroupRef.logGroupName);
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `nbops-${stack.stackName}`,
      defaultInterval: Duration.hours(24),
    });

    const onCall: IWidget[][] = [
      [
        new TextWidget({
          width: 24,
          height: 3,
          markdown: [
            '## nbops: on call',
            'Platform alarms (below) notify the ticket topic. Model alarms (`nbops-<model>-<kind>`) reach the alarm handler, which records an incident, pages or opens a ticket with context, and rolls back or retrains as the policy says (docs/alarms.md). ',
            'Events that failed after retries wait in the failure queues: fix the cause, then redrive them (docs/deploy.md, "When something fails"). ',
            'Each model’s runbook is in its manifest; its versions, approvals and audit trail are in the registry table.',
          ].join('\n'),
        }),
      ],
      [
        new AlarmStatusWidget({
          title: 'Platform alarms',
          alarms: [...props.platformAlarms],
          width: 24,
          height: 4,
        }),
      ],
      [
        new LogQueryWidget({
          title: 'Per-model status: latest outcome of each model',
          logGroupNames: logGroups,
          view: LogQueryVisualizationType.TABLE,
          width: 12,
          height: 8,
          queryLines: [
            'fields @timestamp, outcome.model as model, outcome.version as version, outcome.kind as kind',
            'filter ispresent(outcome.model)',
            'stats latest(kind) as last_outcome, latest(version) as last_version, max(@timestamp) as at by model',
            'sort at desc',
            'limit 100',
          ],
        }),
        new LogQueryWidget({
          title: 'Open incidents: rollbacks, failures and errors',
          logGroupNames: logGroups,
          view: LogQueryVisualizationType.TABLE,
          width: 12,
          height: 8,
          queryLines: [
            'fields @timestamp, service, outcome.model as model, outcome.version as version, coalesce(outcome.kind, level) as what, coalesce(outcome.reason, outcome.alarmName, message) as detail',
            'filter outcome.kind in ["incident", "rolled-back", "deploy-failed", "training-failed", "gates-failed", "rejected", "no-baseline"] or level = "ERROR"',
            'sort @timestamp desc',
            'limit 50',
          ],
        }),
      ],
    ];

    const outcomeGraph = (title: string, handlers: readonly HandlerName[]) =>
      new GraphWidget({
        title,
        width: 12,
        height: 6,
        stacked: true,
        left: handlers.flatMap((handler) =>
          (OUTCOME_METRICS[handler] ?? []).map(
            (name) =>
              new Metric({
                namespace: NBOPS_NAMESPACE,
                metricName: name,
                dimensionsMap: { service: handler },
                statistic: 'Sum',
                period: Duration.hours(1),
                label: `${handler}: ${name}`,
              }),
          ),
        ),
      });
    const search = (expression: string, label: string, period = Duration.minutes(5)) =>
      new MathExpression({ expression, usingMetrics: {}, period, ...(label ? { label } : {}) });
    const sagemaker = (metric: string, stat: string) =>
      `SEARCH('{AWS/SageMaker,EndpointName,VariantName} MetricName="${metric}"', '${stat}', 300)`;

    const overview: IWidget[][] = [
      [
        new TextWidget({
          width: 24,
          height: 1,
          markdown: '## Overview: training, deployments, endpoints, drift, functions',
        }),
      ],
      [
        outcomeGraph('Training jobs: started, rejected, gated, approved (per hour)', [
          'submit',
          'training-state',
        ]),
        outcomeGraph('Deployments: started, deployed, rolled back, failed (per hour)', [
          'deploy',
          'endpoint-state',
        ]),
      ],
      [
        outcomeGraph('Drift evaluations (per hour)', ['drift']),
        outcomeGraph('Model alarms: incidents, rollbacks, retrains, resolved (per hour)', ['alarm']),
      ],
      [
        new GraphWidget({
          title: 'Endpoint latency p99 (ModelLatency, microseconds)',
          width: 8,
          height: 6,
          left: [search(sagemaker('ModelLatency', 'p99'), '')],
        }),
        new GraphWidget({
          title: 'Endpoint errors (5XX and 4XX invocations)',
          width: 8,
          height: 6,
          left: [
            search(sagemaker('Invocation5XXErrors', 'Sum'), '5XX'),
            search(sagemaker('Invocation4XXErrors', 'Sum'), '4XX'),
          ],
        }),
        new GraphWidget({
          title: 'Endpoint invocations',
          width: 8,
          height: 6,
          left: [search(sagemaker('Invocations', 'Sum'), '')],
        }),
      ],
      [
        new GraphWidget({
          title: 'Drift score per model and feature (nbops DriftScore)',
          width: 8,
          height: 6,
          left: [
            search(
              `SEARCH('{${NBOPS_NAMESPACE},${FEATURE_DIMENSION},${MODEL_DIMENSION}} MetricName="${DRIFT_SCORE_METRIC}"', 'Maximum', 3600)`,
              '',
              Duration.hours(1),
            ),
          ],
        }),
        new GraphWidget({
          title: 'Share of drifted features per model (nbops DatasetDriftShare)',
          width: 8,
          height: 6,
          leftYAxis: { min: 0, max: 1 },
          left: [
            search(
              `SEARCH('{${NBOPS_NAMESPACE},${MODEL_DIMENSION}} MetricName="${DRIFT_SHARE_METRIC}"', 'Maximum', 3600)`,
              '',
              Duration.hours(1),
            ),
          ],
        }),
        new GraphWidget({
          title: 'Failed events waiting (failure and undelivered-event queues)',
          width: 8,
          height: 6,
          left: [
            ...props.functions.map((fn) =>
              fn.failureQueue.metricApproximateNumberOfMessagesVisible({
                label: fn.handlerName,
                statistic: 'Maximum',
                period: Duration.minutes(5),
              }),
            ),
            props.undeliveredEvents.metricApproximateNumberOfMessagesVisible({
              label: 'undelivered events',
              statistic: 'Maximum',
              period: Duration.minutes(5),
            }),
          ],
        }),
      ],
      [
        new GraphWidget({
          title: 'Function errors and throttles',
          width: 8,
          height: 6,
          left: props.functions.flatMap((fn) => [
            fn.metricErrors({
              label: `${fn.handlerName} errors`,
              statistic: 'Sum',
              period: Duration.minutes(5),
            }),
            fn.metricThrottles({
              label: `${fn.handlerName} throttles`,
              statistic: 'Sum',
              period: Duration.minutes(5),
            }),
          ]),
        }),
        new GraphWidget({
          title: 'Function duration p99 (ms)',
          width: 8,
          height: 6,
          left: props.functions.map((fn) =>
            fn.metricDuration({ label: fn.handlerName, statistic: 'p99', period: Duration.minutes(5) }),
          ),
        }),
        new GraphWidget({
          title: 'Handler failures (nbops Error / RetryableError / PoisonEvent / ConfigError)',
          width: 8,
          height: 6,
          stacked: true,
          left: [...byName.keys()].flatMap((handler) =>
            FAILURE_METRICS.map(
              (name) =>
                new Metric({
                  namespace: NBOPS_NAMESPACE,
                  metricName: name,
                  dimensionsMap: { service: handler },
                  statistic: 'Sum',
                  period: Duration.minutes(5),
                  label: `${handler}: ${name}`,
                }),
            ),
          ),
        }),
      ],
    ];

    for (const row of [...onCall, ...overview]) this.dashboard.addWidgets(...row);
  }
}
