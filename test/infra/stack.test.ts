/**
 * The nbops stack as it deploys with every optional part on (infra/config/all-features.yaml):
 * resources, permissions, routes and the template snapshot. Bundling is skipped here;
 * bundle.test.ts bundles the handlers for real.
 */
import { join } from 'node:path';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_METRICS, driftMetricDocuments } from '#core/alarms/metrics';
import { loadPolicy } from '#core/policy/policy';
import { REGISTRY_TABLE } from '#core/registry/table';
import { HANDLERS, type HandlerName, NBOPS_EVENT_SOURCE, NBOPS_EVENTS, routes } from '#core/wiring';
import { HANDLER_ACCESS, IDEMPOTENCY_ACTIONS, REGISTRY_ACTIONS } from '../../infra/lib/access';
import type { NbopsConfig } from '../../infra/lib/config';
import { PROJECT_ROOT } from '../../infra/lib/nbops';
import { runtimeHashOf } from '../../infra/lib/runtime-asset';
import {
  actionsOf,
  allFeaturesConfig,
  allStatements,
  list,
  logicalId,
  ofType,
  resourcesOf,
  roleStatements,
  type Statement,
  type Synthesized,
  synth,
} from './synth';

let s: Synthesized;
let config: NbopsConfig;
const ref = (id: string) => ({ Ref: id });
const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

beforeAll(() => {
  config = allFeaturesConfig();
  s = synth(config);
  const resources = Object.keys(resourcesOf(s.json)).length;
  console.log(
    `[infra] synth ${s.synthMs.toFixed(0)} ms (bundling skipped); template ${(s.templateBytes / 1024).toFixed(1)} KiB, ${resources} resources`,
  );
}, 120_000);

const routed = (): HandlerName[] => [...new Set(routes({ bucketName: 'b' }).map((r) => r.handler))];
const fnId = (handler: HandlerName) =>
  logicalId(s.stack, s.stack.nbops.functionFor(handler).node.defaultChild as CfnFunction);
const roleId = (handler: HandlerName) => logicalId(s.stack, s.stack.nbops.functionFor(handler).role!);
const resource = (id: string) => resourcesOf(s.json)[id]!;
const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));

describe('storage and encryption', () => {
  it('the KMS key rotates and lets only the services that need it use it, each under a condition', () => {
    const [[, key]] = ofType(s.json, 'AWS::KMS::Key') as unknown as [
      [string, { Properties: Record<string, unknown> }],
    ];
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const statements = list((key.Properties.KeyPolicy as { Statement: Statement[] }).Statement);
    const services = new Set<string>();
    for (const st of statements) {
      const principal = st.Principal as { AWS?: unknown; Service?: unknown };
      if (principal.AWS) {
        // The account's own administration of the key (AWS's default key policy statement).
        expect(JSON.stringify(principal.AWS)).toContain(':root');
        continue;
      }
      services.add(JSON.stringify(principal.Service));
      expect(
        st.Condition,
        `key policy statement ${st.Sid} for ${JSON.stringify(principal.Service)}`,
      ).toBeDefined();
      for (const action of list(st.Action)) expect(action).not.toContain('*');
    }
    expect([...services].sort()).toEqual(
      [
        '"cloudwatch.amazonaws.com"',
        '"events.amazonaws.com"',
        '"sns.amazonaws.com"',
        JSON.stringify({ 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] }),
      ].sort(),
    );
  });

  it('the artifact bucket is KMS-encrypted, versioned, private, logged, sends EventBridge events and expires by prefix', () => {
    const bucketId = logicalId(s.stack, s.stack.nbops.bucket);
    const p = resource(bucketId).Properties!;
    const keyId = logicalId(s.stack, s.stack.nbops.key);
    expect(p.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { KMSMasterKeyID: arn(keyId), SSEAlgorithm: 'aws:kms' },
        },
      ],
    });
    expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(p.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(p.NotificationConfiguration).toEqual({ EventBridgeConfiguration: { EventBridgeEnabled: true } });
    expect(p.LoggingConfiguration).toEqual({
      DestinationBucketName: ref(logicalId(s.stack, s.stack.nbops.accessLogBucket!)),
      LogFilePrefix: 'artifacts/',
    });
    const rules = (p.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    const byPrefix = Object.fromEntries(rules.map((r) => [r.Prefix ?? '(all)', r]));
    expect(byPrefix['capture/']).toMatchObject({ ExpirationInDays: config.retention.captureDays });
    expect(byPrefix['drift/']).toMatchObject({ ExpirationInDays: config.retention.driftReportDays });
    expect(byPrefix['versions/']).toMatchObject({
      Transitions: [
        {
          StorageClass: 'INTELLIGENT_TIERING',
          TransitionInDays: config.retention.versionsToInfrequentAccessDays,
        },
      ],
    });
    expect(byPrefix['(all)']).toMatchObject({
      NoncurrentVersionExpiration: { NoncurrentDays: config.retention.noncurrentVersionDays },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
    });
    expect(resource(bucketId).DeletionPolicy).toBe('Retain');
    // No custom resource (and no Lambda) is needed to turn on the EventBridge notifications.
    expect(ofType(s.json, 'Custom::S3BucketNotifications')).toEqual([]);
  });

  it('no bucket, queue or topic accepts requests without TLS', () => {
    const denies = (type: string, targetKey: string) =>
      ofType(s.json, type).map(([, r]) => {
        const statements = list((r.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
        const deny = statements.find(
          (st) =>
            st.Effect === 'Deny' &&
            (st.Condition?.Bool as Record<string, string> | undefined)?.['aws:SecureTransport'] === 'false',
        );
        return { target: JSON.stringify(r.Properties![targetKey]), deny };
      });
    const buckets = denies('AWS::S3::BucketPolicy', 'Bucket');
    const queues = denies('AWS::SQS::QueuePolicy', 'Queues');
    const topics = denies('AWS::SNS::TopicPolicy', 'Topics');
    expect(buckets).toHaveLength(ofType(s.json, 'AWS::S3::Bucket').length);
    expect(queues).toHaveLength(ofType(s.json, 'AWS::SQS::Queue').length);
    expect(topics).toHaveLength(ofType(s.json, 'AWS::SNS::Topic').length);
    const check = (policies: typeof buckets, actions: string[]) => {
      for (const { target, deny } of policies) {
        expect(deny, `no TLS-only statement for ${target}`).toBeDefined();
        expect(list(deny!.Action), target).toEqual(actions);
      }
    };
    check(buckets, ['s3:*']);
    check(queues, ['sqs:*']);
    // Publishing is what a topic accepts from callers: plain-HTTP publishes are refused.
    check(topics, ['sns:Publish']);
    // The bucket denial covers the bucket and every object in it.
    const artifacts = logicalId(s.stack, s.stack.nbops.bucket);
    const policy = buckets.find((b) => b.target.includes(artifacts))!;
    expect(list(policy.deny!.Resource)).toEqual([
      arn(artifacts),
      { 'Fn::Join': ['', [arn(artifacts), '/*']] },
    ]);
  });

  it('the registry table is REGISTRY_TABLE: keys and indexes, on demand, point-in-time recovery, KMS, kept on delete', () => {
    const id = logicalId(s.stack, s.stack.nbops.registryTable);
    const table = resource(id);
    const p = table.Properties!;
    expect(p.KeySchema).toEqual([
      { AttributeName: REGISTRY_TABLE.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: REGISTRY_TABLE.sortKey.name, KeyType: 'RANGE' },
    ]);
    expect(p.GlobalSecondaryIndexes).toEqual(
      REGISTRY_TABLE.globalSecondaryIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    );
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.SSESpecification).toEqual({
      KMSMasterKeyId: arn(logicalId(s.stack, s.stack.nbops.key)),
      SSEEnabled: true,
      SSEType: 'KMS',
    });
    expect(p.DeletionProtectionEnabled).toBe(true);
    expect(table.DeletionPolicy).toBe('Retain');
  });

  it('the idempotency table is keyed by id with TTL on expiration', () => {
    const p = resource(logicalId(s.stack, s.stack.nbops.idempotencyTable)).Properties!;
    expect(p.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: 'expiration', Enabled: true });
    expect(p.SSESpecification).toMatchObject({ SSEType: 'KMS' });
  });

  it('queues and topics are encrypted with the key; e-mail subscriptions have a dead-letter queue', () => {
    const key = arn(logicalId(s.stack, s.stack.nbops.key));
    for (const [, q] of ofType(s.json, 'AWS::SQS::Queue')) expect(q.Properties!.KmsMasterKeyId).toEqual(key);
    for (const [, t] of ofType(s.json, 'AWS::SNS::Topic')) expect(t.Properties!.KmsMasterKeyId).toEqual(key);
    const subscriptions = ofType(s.json, 'AWS::SNS::Subscription').map(([, r]) => r.Properties!);
    expect(subscriptions.map((p) => p.Endpoint).sort()).toEqual(
      [...config.notifications.page, ...config.notifications.ticket].sort(),
    );
    for (const p of subscriptions) {
      expect(p.Protocol).toBe('email');
      expect(p.RedrivePolicy).toEqual({ deadLetterTargetArn: expect.anything() });
    }
  });
});

describe('functions', () => {
  it('one function per routed handler, with the defaults NbopsFunction fixes', () => {
    // The routed handlers and the operator API (on by default).
    const handlers: HandlerName[] = [...routed(), 'ops-api'];
    expect([...s.stack.nbops.functions.keys()].sort()).toEqual([...handlers].sort());
    for (const handler of handlers) {
      const p = resource(fnId(handler)).Properties!;
      expect(p.Runtime).toBe('nodejs24.x');
      expect(p.Architectures).toEqual(['arm64']);
      expect(p.TracingConfig).toEqual({ Mode: 'Active' });
      expect(p.Handler).toBe('index.handler');
      const env = (p.Environment as { Variables: Record<string, unknown> }).Variables;
      for (const name of [
        'NBOPS_BUCKET',
        'NBOPS_TABLE',
        'NBOPS_IDEMPOTENCY_TABLE',
        'NBOPS_EVENT_BUS',
        'NBOPS_PAGE_TOPIC_ARN',
        'NBOPS_TICKET_TOPIC_ARN',
        'NBOPS_RUNTIME_HASH',
        'NBOPS_POLICY',
      ])
        expect(env[name], `${handler} ${name}`).toBeDefined();
      expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(env.POWERTOOLS_SERVICE_NAME).toBe(handler);
      // all-features.yaml turns CloudWatch's own alarm notifications on.
      expect(env.NBOPS_ALARM_ACTIONS, handler).toBe('true');
      // The scheduler adapter's variables, only where the handler manages drift schedules.
      const scheduler = {
        NBOPS_EVENT_BUS_ARN: arn(logicalId(s.stack, s.stack.nbops.eventBus)),
        NBOPS_SCHEDULER_ROLE_ARN: arn(logicalId(s.stack, s.stack.nbops.schedulerRole)),
        NBOPS_SCHEDULE_GROUP: ref(logicalId(s.stack, s.stack.nbops.scheduleGroup)),
        NBOPS_SCHEDULE_DLQ_ARN: arn(logicalId(s.stack, s.stack.nbops.undeliveredEvents)),
      };
      for (const [name, value] of Object.entries(scheduler))
        expect(env[name], `${handler} ${name}`).toEqual(
          HANDLER_ACCESS[handler].schedules ? value : undefined,
        );
      const logGroupId = logicalId(s.stack, s.stack.nbops.functionFor(handler).logGroupRef);
      expect(p.LoggingConfig).toEqual({ LogFormat: 'JSON', LogGroup: ref(logGroupId) });
      expect(resource(logGroupId).Properties).toMatchObject({
        LogGroupName: `/nbops/Nbops/${handler}`,
        RetentionInDays: config.retention.logDays,
        KmsKeyId: arn(logicalId(s.stack, s.stack.nbops.key)),
      });
      const access = HANDLER_ACCESS[handler];
      expect(p.MemorySize).toBe(config.functions[handler]?.memoryMB ?? access.memoryMB);
      expect(p.Timeout).toBe(access.timeoutSeconds);
      expect(p.ReservedConcurrentExecutions).toBe(access.reservedConcurrency);
    }
    expect(resource(fnId('submit')).Properties!.MemorySize).toBe(2048);
    expect(resource(fnId('sweeper')).Properties!.ReservedConcurrentExecutions).toBe(1);
  });

  it('failed asynchronous invocations go to each function’s own encrypted queue, and three alarms watch it', () => {
    const ticket = ref(logicalId(s.stack, s.stack.nbops.ticketTopic));
    const configs = ofType(s.json, 'AWS::Lambda::EventInvokeConfig').map(([, r]) => r.Properties!);
    for (const handler of routed()) {
      const fn = s.stack.nbops.functionFor(handler);
      const invoke = configs.find(
        (c) => c.FunctionName && JSON.stringify(c.FunctionName).includes(fnId(handler)),
      );
      expect(invoke, handler).toMatchObject({
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 6 * 3600,
        DestinationConfig: { OnFailure: { Destination: arn(logicalId(s.stack, fn.failureQueue)) } },
      });
      expect(fn.alarms).toHaveLength(3);
      for (const alarm of fn.alarms)
        expect(resource(logicalId(s.stack, alarm)).Properties!.AlarmActions).toEqual([ticket]);
    }
  });

  it('NBOPS_POLICY is the configured policy plus this deployment’s aws section, and the handlers accept it', () => {
    const env = (resource(fnId('submit')).Properties!.Environment as { Variables: Record<string, unknown> })
      .Variables;
    const join = env.NBOPS_POLICY as { 'Fn::Join': [string, unknown[]] };
    const values: Record<string, string> = {
      'AWS::AccountId': '123456789012',
      'AWS::Region': 'eu-west-1',
      [logicalId(s.stack, s.stack.nbops.bucket)]: 'nbops-artifacts-bucket',
    };
    const text = join['Fn::Join'][1]
      .map((part) => {
        if (typeof part === 'string') return part;
        const p = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
        if (p.Ref) return values[p.Ref] ?? p.Ref;
        return `arn:aws:iam::123456789012:role/${p['Fn::GetAtt']![0]}`;
      })
      .join('');
    const loaded = loadPolicy(text, 'NBOPS_POLICY.json');
    expect(loaded.findings.filter((f) => f.severity === 'error')).toEqual([]);
    const { aws, ...rest } = loaded.policy!;
    const { aws: configuredAws, ...configured } = config.policy;
    expect(rest).toEqual(configured);
    expect(aws).toMatchObject({
      accountId: '123456789012',
      region: 'eu-west-1',
      artifactBucket: 'nbops-artifacts-bucket',
      executionRoleArn: `arn:aws:iam::123456789012:role/${logicalId(s.stack, s.stack.nbops.executionRole)}`,
      vpc: configuredAws?.vpc,
      enableNetworkIsolation: true,
    });
  });

  it('the runtime is published to runtime/<hash>/nbops_runtime/ with the hash the handlers put in requests', () => {
    const hash = runtimeHashOf(join(PROJECT_ROOT, 'layers', 'runtime', 'nbops_runtime'));
    expect(s.stack.nbops.runtimeHash).toBe(hash);
    const [deployment] = ofType(s.json, 'Custom::CDKBucketDeployment').map(([, r]) => r);
    expect(deployment!.Properties).toMatchObject({
      DestinationBucketName: ref(logicalId(s.stack, s.stack.nbops.bucket)),
      DestinationBucketKeyPrefix: `runtime/${hash}/nbops_runtime/`,
      Prune: false,
      RetainOnDelete: true,
    });
    for (const handler of routed()) {
      const env = (resource(fnId(handler)).Properties!.Environment as { Variables: Record<string, unknown> })
        .Variables;
      expect(env.NBOPS_RUNTIME_HASH).toBe(hash);
    }
  });
});

describe('routes', () => {
  it('every wiring route became a rule or a schedule that targets its handler’s function', () => {
    const bucketRef = ref(logicalId(s.stack, s.stack.nbops.bucket));
    const busRef = ref(logicalId(s.stack, s.stack.nbops.eventBus));
    const undelivered = arn(logicalId(s.stack, s.stack.nbops.undeliveredEvents));
    const rules = ofType(s.json, 'AWS::Events::Rule').map(([, r]) => r.Properties!);
    const schedules = ofType(s.json, 'AWS::Scheduler::Schedule').map(([, r]) => r.Properties!);
    const table = routes({ bucketName: '<bucket>' });
    expect(rules.length + schedules.length).toBe(table.length);
    const withBucket = (pattern: unknown) =>
      JSON.parse(JSON.stringify(pattern).replaceAll('"<bucket>"', JSON.stringify(bucketRef)));
    for (const route of table) {
      if (route.kind === 'event') {
        const rule = rules.find(
          (r) => JSON.stringify(r.EventPattern) === JSON.stringify(withBucket(route.pattern)),
        );
        expect(rule, `no rule for route ${route.id}`).toBeDefined();
        const own = (route.pattern.source as string[]).includes(NBOPS_EVENT_SOURCE);
        expect(rule!.EventBusName, route.id).toEqual(own ? busRef : undefined);
        expect(rule!.Targets).toEqual([
          {
            Arn: arn(fnId(route.handler)),
            Id: 'Target0',
            DeadLetterConfig: { Arn: undelivered },
            RetryPolicy: { MaximumEventAgeInSeconds: 6 * 3600, MaximumRetryAttempts: 20 },
          },
        ]);
      } else {
        const target = schedules.find(
          (sch) =>
            JSON.stringify((sch.Target as { Arn: unknown }).Arn) === JSON.stringify(arn(fnId(route.handler))),
        );
        expect(target, `no schedule for route ${route.id}`).toMatchObject({
          ScheduleExpression: config.schedules[route.id] ?? route.schedule,
          FlexibleTimeWindow: { Mode: 'OFF' },
          GroupName: ref(logicalId(s.stack, s.stack.nbops.scheduleGroup)),
          Target: {
            RoleArn: arn(logicalId(s.stack, s.stack.nbops.schedulerRole)),
            DeadLetterConfig: { Arn: undelivered },
            RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 },
          },
        });
        expect(JSON.parse((target!.Target as { Input: string }).Input)).toEqual({
          scheduledTime: '<aws.scheduler.scheduled-time>',
          executionId: '<aws.scheduler.execution-id>',
        });
      }
    }
    // The all-features config overrides the sweep's schedule.
    expect(schedules.map((sch) => sch.ScheduleExpression)).toContain('rate(30 minutes)');
  });

  it('only EventBridge rules of this account may invoke the functions, and Scheduler only through its role', () => {
    const permissions = ofType(s.json, 'AWS::Lambda::Permission').map(([, r]) => r.Properties!);
    expect(permissions).toHaveLength(ofType(s.json, 'AWS::Events::Rule').length);
    for (const p of permissions) {
      expect(p.Principal).toBe('events.amazonaws.com');
      expect(p.SourceArn).toEqual(expect.objectContaining({ 'Fn::GetAtt': expect.arrayContaining(['Arn']) }));
    }
    const schedulerRole = logicalId(s.stack, s.stack.nbops.schedulerRole);
    const trust = resource(schedulerRole).Properties!.AssumeRolePolicyDocument as { Statement: Statement[] };
    expect(trust.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
      },
    ]);
    const invoke = roleStatements(s.json, schedulerRole).filter((st) =>
      list(st.Action).includes('lambda:InvokeFunction'),
    );
    const scheduled = routes({ bucketName: 'b' })
      .filter((r) => r.kind === 'schedule')
      .map((r) => arn(fnId(r.handler)));
    expect(invoke.flatMap((st) => list(st.Resource))).toEqual(scheduled);
  });

  it('drift schedules reach the drift handler through the nbops bus: the scheduler role may put events there and nowhere else', () => {
    const schedulerRole = logicalId(s.stack, s.stack.nbops.schedulerRole);
    const statements = roleStatements(s.json, schedulerRole);
    expect(actionsOf(statements)).toEqual([
      'events:PutEvents',
      'kms:Decrypt',
      'kms:GenerateDataKey',
      'lambda:InvokeFunction',
      'sqs:SendMessage',
    ]);
    const resourcesFor = (action: string) =>
      statements.filter((st) => list(st.Action).includes(action)).flatMap((st) => list(st.Resource));
    expect(resourcesFor('events:PutEvents')).toEqual([arn(logicalId(s.stack, s.stack.nbops.eventBus))]);
    expect(resourcesFor('sqs:SendMessage')).toEqual([
      arn(logicalId(s.stack, s.stack.nbops.undeliveredEvents)),
    ]);
    // What a drift schedule's "Drift Evaluation Due" event meets on that bus: the drift function's rule.
    const rule = s.stack.nbops.routeTargets.get('drift-evaluation-due')!;
    expect(resource(logicalId(s.stack, rule)).Properties).toMatchObject({
      EventBusName: ref(logicalId(s.stack, s.stack.nbops.eventBus)),
      EventPattern: { source: [NBOPS_EVENT_SOURCE], 'detail-type': [NBOPS_EVENTS.driftEvaluationDue] },
      Targets: [expect.objectContaining({ Arn: arn(fnId('drift')) })],
    });
  });
});

describe('permissions', () => {
  const GUARDED = /^(sagemaker|iam|kms):/;

  it('no policy grants a wildcard action on SageMaker, IAM or KMS, nor any of their actions on every resource', () => {
    const offending: string[] = [];
    for (const { where, kind, statement } of allStatements(s.json)) {
      if (statement.Effect !== 'Allow') continue;
      const actions = list(statement.Action);
      const principal = JSON.stringify(statement.Principal ?? '');
      // The one justified exception: the key policy's administration statement for the account
      // (AWS's default key policy; without it no IAM policy could manage or use the key).
      const accountAdmin =
        kind === 'resource' && actions.length === 1 && actions[0] === 'kms:*' && principal.includes(':root');
      if (accountAdmin) continue;
      for (const action of actions)
        if (action === '*' || (GUARDED.test(action) && action.includes('*')))
          offending.push(`${where}: ${action} on ${JSON.stringify(statement.Resource)}`);
      const everything = list(statement.Resource).some((r) => r === '*');
      // In a key policy "*" means the key itself; identity policies must name resources.
      if (kind === 'identity' && everything)
        for (const action of actions.filter((a) => GUARDED.test(a)))
          offending.push(`${where}: ${action} on every resource`);
    }
    expect(offending).toEqual([]);
  });

  it('iam:PassRole: the execution role only to SageMaker where jobs or models are created, the scheduler role only to Scheduler where drift schedules are created', () => {
    const executionRole = arn(logicalId(s.stack, s.stack.nbops.executionRole));
    const schedulerRole = arn(logicalId(s.stack, s.stack.nbops.schedulerRole));
    const passers = { sagemaker: new Set<string>(), scheduler: new Set<string>() };
    for (const { where, statement } of allStatements(s.json)) {
      if (!list(statement.Action).some((a) => a === 'iam:PassRole' || a === 'iam:*' || a === '*')) continue;
      expect(list(statement.Action), where).toEqual(['iam:PassRole']);
      const toScheduler = JSON.stringify(statement.Resource) === JSON.stringify(schedulerRole);
      expect(statement.Resource, where).toEqual(toScheduler ? schedulerRole : executionRole);
      expect(statement.Condition, where).toEqual({
        StringEquals: {
          'iam:PassedToService': toScheduler ? 'scheduler.amazonaws.com' : 'sagemaker.amazonaws.com',
        },
      });
      passers[toScheduler ? 'scheduler' : 'sagemaker'].add(where);
    }
    const policyOf = (h: HandlerName) =>
      ofType(s.json, 'AWS::IAM::Policy').find(([, r]) =>
        JSON.stringify(r.Properties!.Roles).includes(roleId(h)),
      )![0];
    const sagemaker = routed()
      .filter((h) => HANDLER_ACCESS[h].passExecutionRole)
      .map(policyOf);
    const scheduler = routed()
      .filter((h) => HANDLER_ACCESS[h].schedules === 'manage')
      .map(policyOf);
    expect([...passers.sagemaker].sort()).toEqual(sagemaker.sort());
    expect([...passers.scheduler].sort()).toEqual(scheduler.sort());
    expect(sagemaker.length).toBeGreaterThan(0);
    // endpoint-state creates a model's drift schedule when its version becomes DEPLOYED.
    expect(scheduler).toContain(policyOf('endpoint-state'));
  });

  it('each handler’s role grants exactly what access.ts lists for it', () => {
    const ticket = ref(logicalId(s.stack, s.stack.nbops.ticketTopic));
    const page = ref(logicalId(s.stack, s.stack.nbops.pageTopic));
    const registry = logicalId(s.stack, s.stack.nbops.registryTable);
    for (const handler of routed()) {
      const access = HANDLER_ACCESS[handler];
      const statements = roleStatements(s.json, roleId(handler));
      const actions = actionsOf(statements);
      const service = (prefix: string) => actions.filter((a) => a.startsWith(prefix));
      expect(service('sagemaker:'), handler).toEqual([...(access.sagemaker?.actions ?? [])].sort());
      expect(service('cloudwatch:'), handler).toEqual([...(access.alarms ?? [])].sort());
      expect(service('events:'), handler).toEqual(access.publishEvents ? ['events:PutEvents'] : []);
      expect(service('iam:'), handler).toEqual(
        access.passExecutionRole || access.schedules === 'manage' ? ['iam:PassRole'] : [],
      );
      const scheduler =
        access.schedules === 'manage'
          ? [
              'scheduler:CreateSchedule',
              'scheduler:DeleteSchedule',
              'scheduler:GetSchedule',
              'scheduler:UpdateSchedule',
            ]
          : access.schedules === 'delete'
            ? ['scheduler:DeleteSchedule']
            : [];
      expect(service('scheduler:'), handler).toEqual(scheduler);
      for (const st of statements.filter((st) => list(st.Action).some((a) => a.startsWith('scheduler:'))))
        expect(st.Resource, handler).toEqual({
          'Fn::Join': [
            '',
            [
              'arn:',
              ref('AWS::Partition'),
              ':scheduler:',
              ref('AWS::Region'),
              ':',
              ref('AWS::AccountId'),
              ':schedule/',
              ref(logicalId(s.stack, s.stack.nbops.scheduleGroup)),
              '/*',
            ],
          ],
        });
      expect(service('sns:'), handler).toEqual(access.notify ? ['sns:Publish'] : []);
      const s3 = new Set<string>();
      if (access.s3?.read?.length) s3.add('s3:GetObject').add('s3:GetObjectVersion');
      if (access.s3?.write?.length) s3.add('s3:PutObject');
      if (access.s3?.list) s3.add('s3:ListBucket');
      expect(service('s3:'), handler).toEqual([...s3].sort());
      // Objects: exactly the key patterns access.ts lists; listing: the bucket, under prefixes when listed.
      const bucket = logicalId(s.stack, s.stack.nbops.bucket);
      const objects = (patterns: readonly string[] = []) =>
        patterns.map((p) => ({ 'Fn::Join': ['', [arn(bucket), `/${p}`]] })).sort(byJson);
      const resourcesFor = (action: string) =>
        statements
          .filter((st) => list(st.Action).includes(action))
          .flatMap((st) => list(st.Resource))
          .sort(byJson);
      expect(resourcesFor('s3:GetObject'), handler).toEqual(objects(access.s3?.read));
      expect(resourcesFor('s3:PutObject'), handler).toEqual(objects(access.s3?.write));
      const listing = statements.filter((st) => list(st.Action).includes('s3:ListBucket'));
      if (access.s3?.list) {
        expect(
          listing.map((st) => st.Resource),
          handler,
        ).toEqual([arn(bucket)]);
        expect(listing[0]!.Condition, handler).toEqual(
          access.s3.list === true ? undefined : { StringLike: { 's3:prefix': [...access.s3.list] } },
        );
      }
      const dynamo = new Set<string>([
        ...REGISTRY_ACTIONS[access.registry],
        ...(access.idempotency ? IDEMPOTENCY_ACTIONS : []),
      ]);
      expect(service('dynamodb:'), handler).toEqual([...dynamo].sort());
      // The registry and both of its indexes, by name; never index/*.
      const registryStatement = statements.find((st) => JSON.stringify(st.Resource).includes(registry))!;
      expect(JSON.stringify(registryStatement.Resource)).not.toContain('index/*');
      const publish = statements.find((st) => list(st.Action).includes('sns:Publish'));
      if (access.notify) expect(list(publish!.Resource)).toEqual([page, ticket]);
    }
  });

  it('SageMaker and CloudWatch actions are limited to nbops resource types and nbops-* alarms', () => {
    for (const { where, statement } of allStatements(s.json)) {
      const actions = list(statement.Action);
      if (statement.Effect !== 'Allow') continue;
      const resources = list(statement.Resource).map((r) => JSON.stringify(r));
      if (actions.some((a) => a.startsWith('sagemaker:')))
        for (const r of resources)
          expect(r, where).toMatch(
            /:sagemaker:",\{"Ref":"AWS::Region"\},":",\{"Ref":"AWS::AccountId"\},":(training-job|model|endpoint-config|endpoint)\/\*"/,
          );
      const alarmActions = actions.filter(
        (a) => a.startsWith('cloudwatch:') && a !== 'cloudwatch:PutMetricData',
      );
      if (alarmActions.length > 0)
        for (const r of resources) expect(r, where).toMatch(/:alarm:nbops-\*"\]\]\}$/);
    }
  });

  it('the SageMaker execution role reads declared data, the runtime and notebook copies, writes only version outputs and capture', () => {
    const roleLogicalId = logicalId(s.stack, s.stack.nbops.executionRole);
    const trust = resource(roleLogicalId).Properties!.AssumeRolePolicyDocument as { Statement: Statement[] };
    expect(trust.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'sagemaker.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
      },
    ]);
    const statements = roleStatements(s.json, roleLogicalId);
    const resourcesFor = (action: string) =>
      statements
        .filter((st) => list(st.Action).includes(action))
        .flatMap((st) => list(st.Resource))
        .map((r) => JSON.stringify(r));
    const bucket = logicalId(s.stack, s.stack.nbops.bucket);
    const objects = (suffix: string) => JSON.stringify({ 'Fn::Join': ['', [arn(bucket), suffix]] });
    const external = (path: string) =>
      JSON.stringify({ 'Fn::Join': ['', ['arn:', ref('AWS::Partition'), `:s3:::${path}`]] });
    expect(resourcesFor('s3:GetObject').sort()).toEqual(
      [
        objects('/versions/*/*/notebook/*'),
        objects('/runtime/*'),
        objects('/versions/*/*/training/*'),
        objects('/versions/*/*/checkpoints/*'),
        external('ml-data/churn/*'),
        external('ml-data/shared/*'),
        external('feature-store/v*/*'),
      ].sort(),
    );
    expect(resourcesFor('s3:PutObject').sort()).toEqual(
      [
        objects('/versions/*/*/training/*'),
        objects('/versions/*/*/checkpoints/*'),
        objects('/capture/*'),
      ].sort(),
    );
    expect(actionsOf(statements).filter((a) => a.startsWith('s3:'))).toEqual([
      's3:AbortMultipartUpload',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
    ]);
    // ECR pulls from the repositories the policy's allowed images name, nothing else.
    const ecr = resourcesFor('ecr:BatchGetImage').map((r) => r.replace(/\{"Ref":"AWS::Partition"\}/, 'aws'));
    expect(ecr.sort()).toEqual(
      [
        '{"Fn::Join":["",["arn:",aws,":ecr:*:763104351884:repository/pytorch-training"]]}',
        '{"Fn::Join":["",["arn:",aws,":ecr:eu-west-1:123456789012:repository/team/trainer"]]}',
        '{"Fn::Join":["",["arn:",aws,":ecr:*:763104351884:repository/pytorch-inference"]]}',
      ].sort(),
    );
    expect(resourcesFor('cloudwatch:DescribeAlarms')).toHaveLength(1);
    expect(resourcesFor('cloudwatch:DescribeAlarms')[0]).toContain(':alarm:nbops-*');
    const putMetricData = statements.find((st) => list(st.Action).includes('cloudwatch:PutMetricData'))!;
    expect(putMetricData.Condition).toEqual({ StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } });
    expect(resourcesFor('kms:Decrypt')).toEqual([JSON.stringify(arn(logicalId(s.stack, s.stack.nbops.key)))]);
    // policy.aws.vpc is set in this configuration: network interfaces for jobs in the VPC.
    expect(actionsOf(statements)).toContain('ec2:CreateNetworkInterface');
  });
});

describe('dashboard', () => {
  it('finds the drift metrics with the namespace and dimensions the drift handler emits them with', () => {
    const report = {
      method: 'psi',
      records: 500,
      insufficientData: false,
      datasetDrift: { drifted: true, share: 0.5, evaluatedFeatures: 2 },
      features: [
        { name: 'tenure', statistic: 0.31, drifted: true, method: 'psi', threshold: 0.2 },
        { name: 'plan', statistic: 0.02, drifted: false, method: 'chi2', threshold: 0.2 },
      ],
    } as unknown as Parameters<typeof driftMetricDocuments>[0];
    const emitted = new Map<string, { namespace: string; dimensions: string[] }>();
    for (const doc of driftMetricDocuments(report, {
      model: 'churn',
      version: 3,
      at: '2025-03-01T10:00:00.000Z',
      reportUri: 's3://b/drift/churn/report.html',
      timestamp: new Date('2025-03-01T10:00:05Z'),
    })) {
      const [directive] = (
        doc._aws as {
          CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
        }
      ).CloudWatchMetrics;
      for (const metric of directive!.Metrics)
        emitted.set(metric.Name, {
          namespace: directive!.Namespace,
          dimensions: [...directive!.Dimensions[0]!].sort(),
        });
    }
    const [, dashboard] = ofType(s.json, 'AWS::CloudWatch::Dashboard')[0]!;
    // The body is JSON text joined with references (Region etc.): keep the text, mark the references.
    const parts = (dashboard!.Properties!.DashboardBody as { 'Fn::Join': [string, unknown[]] })[
      'Fn::Join'
    ][1];
    const body = parts.map((part) => (typeof part === 'string' ? part : '<ref>')).join('');
    for (const metric of [DRIFT_METRICS.score, DRIFT_METRICS.share]) {
      const search = new RegExp(`SEARCH\\('\\{([^}]*)\\} MetricName=\\\\"${metric}\\\\"`).exec(body);
      expect(search, `no SEARCH for ${metric}`).not.toBeNull();
      const [namespace, ...dimensions] = search![1]!.split(',');
      expect({ namespace, dimensions: dimensions.sort() }, metric).toEqual(emitted.get(metric));
    }
  });
});

describe('template', () => {
  it('matches the snapshot (asset hashes masked)', () => {
    const masked = JSON.parse(JSON.stringify(s.json).replace(/[0-9a-f]{64}(\.zip)?/g, '<asset-hash>'));
    expect(masked).toMatchSnapshot();
  });

  it('names only handlers nbops knows', () => {
    for (const handler of s.stack.nbops.functions.keys()) expect(HANDLERS).toContain(handler);
  });
});
