/**
 * NbopsStack: one nbops deployment, configured from NbopsConfig (the config file or cdk.json
 * context). Environment-agnostic unless the config names an account and Region, so `cdk synth`
 * needs no credentials.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { NbopsConfig } from './config';
import { Nbops, type NbopsProps } from './nbops';

export interface NbopsStackProps extends StackProps {
  config: NbopsConfig;
  /** Passed through to the Nbops construct (bring-your-own resources, another checkout). */
  nbops?: Omit<
    NbopsProps,
    'policy' | 'notifications' | 'schedules' | 'retention' | 'functions' | 'opsApi' | 'alarmActions'
  >;
}

export class NbopsStack extends Stack {
  readonly nbops: Nbops;

  constructor(scope: Construct, id: string, props: NbopsStackProps) {
    const { config, nbops: extra, ...stackProps } = props;
    super(scope, id, {
      description:
        'nbops: model notebooks to production on SageMaker (validate, train, register, deploy, watch)',
      ...(config.account || config.region
        ? {
            env: {
              ...(config.account ? { account: config.account } : {}),
              ...(config.region ? { region: config.region } : {}),
            },
          }
        : {}),
      ...stackProps,
    });
    this.nbops = new Nbops(this, 'Nbops', {
      ...extra,
      policy: config.policy,
      notifications: config.notifications,
      schedules: config.schedules,
      retention: config.retention,
      functions: config.functions,
      opsApi: config.opsApi,
      alarmActions: config.alarmActions,
    });
    const n = this.nbops;
    const outputs: Record<string, [string, string]> = {
      ArtifactBucket: [
        n.bucket.bucketName,
        'Upload notebooks to notebooks/<model>/<name>.ipynb in this bucket.',
      ],
      RegistryTable: [n.registryTable.tableName, 'The model registry (DynamoDB).'],
      EventBus: [n.eventBus.eventBusName, 'The bus nbops publishes its own events to.'],
      PageTopic: [n.pageTopic.topicArn, 'Notifications that page someone.'],
      TicketTopic: [n.ticketTopic.topicArn, 'Notifications that open a ticket, and platform alarms.'],
      ExecutionRole: [n.executionRole.roleArn, 'The role SageMaker training jobs and endpoints run as.'],
      KmsKey: [n.key.keyArn, 'The key encrypting artifacts, registry, queues, topics and logs.'],
      RuntimeHash: [n.runtimeHash, 'The published Python runtime: runtime/<hash>/ in the bucket.'],
      ScheduleGroup: [n.scheduleGroup.ref, 'EventBridge Scheduler group of nbops schedules.'],
      Dashboard: [n.dashboard.dashboard.dashboardName, 'The CloudWatch dashboard.'],
    };
    if (n.opsApiUrl)
      outputs.OpsApiUrl = [n.opsApiUrl.url, 'The operator API (IAM auth, SigV4-signed requests).'];
    if (n.operatorPolicy)
      outputs.OperatorPolicy = [
        n.operatorPolicy.managedPolicyArn,
        'Attach to operators: call the operator API (nbops CLI; uploads go through it).',
      ];
    for (const [name, [value, description]] of Object.entries(outputs))
      new CfnOutput(this, name, { value, description });
  }
}
