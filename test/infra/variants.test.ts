/**
 * The construct in its other shapes: the default configuration, bring-your-own resources in
 * someone else's stack, the operator API, and the refusals (missing handler code, oversized policy).
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { HANDLERS, routes } from '#core/wiring';
import { createApp } from '../../infra/lib/app';
import { parseConfig } from '../../infra/lib/config';
import { MAX_POLICY_JSON, Nbops, PROJECT_ROOT } from '../../infra/lib/nbops';
import {
  defaultConfig,
  list,
  longestResolvedLength,
  ofType,
  roleStatements,
  type Statement,
  synth,
} from './synth';

const nagFindings = (app: App) =>
  [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
    pack
      .validateScope(app)
      .violations.map(
        (v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
  );

const routed = () => [...new Set(routes({ bucketName: 'b' }).map((r) => r.handler))];

/** A checkout with the real layers and handlers, plus `extra` handler files, for construct tests. */
function checkout(extra: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'nbops-checkout-'));
  for (const entry of ['layers', 'package.json', 'package-lock.json', 'node_modules', 'schemas'])
    symlinkSync(join(PROJECT_ROOT, entry), join(root, entry));
  mkdirSync(join(root, 'functions'));
  for (const handler of [...new Set(routes({ bucketName: 'b' }).map((r) => r.handler)), 'commons'])
    symlinkSync(join(PROJECT_ROOT, 'functions', handler), join(root, 'functions', handler));
  for (const [handler, code] of Object.entries(extra)) {
    mkdirSync(join(root, 'functions', handler));
    writeFileSync(join(root, 'functions', handler, 'index.ts'), code);
  }
  return root;
}

describe('the default configuration', () => {
  it('warns that no data locations and no images are declared, and pulls from any ECR repository', () => {
    const s = synth(defaultConfig());
    const annotations = Annotations.fromStack(s.stack);
    annotations.hasWarning('/Nbops/Nbops', Match.stringLikeRegexp('policy.data.allowedLocations is empty'));
    annotations.hasWarning('/Nbops/Nbops', Match.stringLikeRegexp('allowedImages'));
    const role = s.stack.getLogicalId(s.stack.nbops.executionRole.node.defaultChild as never);
    const statements = roleStatements(s.json, role);
    const ecr = statements.find((st) => list(st.Action).includes('ecr:BatchGetImage'))!;
    expect(ecr.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:*:*:repository/*']],
    });
    // Only the artifact bucket: no statement names another bucket.
    const external = statements.filter((st) => JSON.stringify(st.Resource).includes(':s3:::'));
    expect(external).toEqual([]);
    // CloudWatch's own alarm notifications are opt-in (alarmActions): the alarm handler notifies.
    for (const [id, fn] of ofType(s.json, 'AWS::Lambda::Function'))
      expect(
        (fn.Properties!.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
          ?.NBOPS_ALARM_ACTIONS,
        id,
      ).toBeUndefined();
  }, 120_000);
});

describe('bring your own resources', () => {
  it('uses the given key, bucket, topics and bus, creates none of its own, and stays nag-clean', () => {
    const app = new App({ context: { ...CURRENTLY_RECOMMENDED_FLAGS, 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Platform');
    const key = Key.fromKeyArn(
      stack,
      'Key',
      'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    );
    const nbops = new Nbops(stack, 'Nbops', {
      existingKey: key,
      existingBucket: Bucket.fromBucketAttributes(stack, 'Bucket', {
        bucketName: 'team-ml-artifacts',
        encryptionKey: key,
      }),
      existingPageTopic: Topic.fromTopicArn(stack, 'Page', 'arn:aws:sns:eu-west-1:123456789012:oncall'),
      existingTicketTopic: Topic.fromTopicArn(stack, 'Ticket', 'arn:aws:sns:eu-west-1:123456789012:tickets'),
      existingEventBus: EventBus.fromEventBusName(stack, 'Bus', 'ml-events'),
    });
    nbops.grantManageSchedules(nbops.functionFor('deploy'));
    const template = Template.fromStack(stack);
    for (const type of ['AWS::KMS::Key', 'AWS::S3::Bucket', 'AWS::SNS::Topic', 'AWS::Events::EventBus'])
      template.resourceCountIs(type, 0);
    const json = template.toJSON();
    const [, submit] = ofType(json, 'AWS::Lambda::Function').find(([id]) =>
      id.startsWith('NbopsSubmitFunction'),
    )!;
    expect(
      (submit.Properties!.Environment as { Variables: Record<string, unknown> }).Variables,
    ).toMatchObject({
      NBOPS_BUCKET: 'team-ml-artifacts',
      NBOPS_EVENT_BUS: 'ml-events',
      NBOPS_PAGE_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:oncall',
      NBOPS_TICKET_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:tickets',
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: { bucket: { name: ['team-ml-artifacts'] }, object: Match.anyValue() },
      }),
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: 'ml-events',
      EventPattern: Match.objectLike({ source: ['nbops'] }),
    });
    // grantManageSchedules: the group's schedules only, and the scheduler role only to Scheduler.
    const deployRole = stack.getLogicalId(nbops.functionFor('deploy').role!.node.defaultChild as never);
    const statements: Statement[] = roleStatements(json, deployRole);
    const schedules = statements.find((st) => list(st.Action).includes('scheduler:CreateSchedule'))!;
    expect(JSON.stringify(schedules.Resource)).toMatch(
      /:schedule\/",\{"Ref":"NbopsScheduleGroup[0-9A-F]+"\},"\/\*"/,
    );
    const passScheduler = statements.filter(
      (st) =>
        list(st.Action).includes('iam:PassRole') && JSON.stringify(st.Resource).includes('SchedulerRole'),
    );
    expect(passScheduler).toHaveLength(1);
    expect(passScheduler[0]!.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
    });
    expect(nagFindings(app)).toEqual([]);
  }, 120_000);
});

describe('the operator API', () => {
  it('puts the ops-api handler behind a function URL with IAM auth', () => {
    const root = checkout({ 'ops-api': 'export const handler = async () => ({ statusCode: 200 });\n' });
    const config = { ...defaultConfig(), opsApi: true };
    const { app, stack } = createApp(config, {
      nag: false,
      builtinCloudFormationValidation: false,
      context: { 'aws:cdk:bundling-stacks': [] },
      nbops: { projectRoot: root },
    });
    const template = Template.fromStack(stack);
    const fn = stack.getLogicalId(stack.nbops.functionFor('ops-api').node.defaultChild as never);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [fn, 'Arn'] },
    });
    template.hasOutput('OpsApiUrl', Match.anyValue());
    const role = stack.getLogicalId(stack.nbops.functionFor('ops-api').role!.node.defaultChild as never);
    const actions = roleStatements(template.toJSON(), role).flatMap((st) => list(st.Action));
    expect(actions).toContain('events:PutEvents');
    expect(actions).not.toContain('iam:PassRole');
    // Operators get one policy to attach: invoke this URL (IAM auth only); uploads go through it.
    template.hasOutput('OperatorPolicy', Match.anyValue());
    const operator = Object.values(template.findResources('AWS::IAM::ManagedPolicy'))[0]!;
    const granted = (
      operator.Properties.PolicyDocument.Statement as { Action: string; Resource: unknown }[]
    ).map((st) => st.Action);
    expect(granted).toEqual(['lambda:InvokeFunctionUrl']);
    expect(JSON.stringify(operator)).toContain('"lambda:FunctionUrlAuthType":"AWS_IAM"');
    expect(nagFindings(app)).toEqual([]);
  }, 120_000);

  it('refuses to deploy it without the handler’s code, naming the file and the fix', () => {
    const root = checkout();
    const config = { ...defaultConfig(), opsApi: true };
    expect(() =>
      createApp(config, {
        nag: false,
        context: { 'aws:cdk:bundling-stacks': [] },
        nbops: { projectRoot: root },
      }),
    ).toThrow(/functions\/ops-api\/index\.ts does not exist.*turn opsApi off/);
  });
});

describe('Lambda’s 4 KB environment', () => {
  it('the longest accepted policy still fits every function’s environment, with the longest stack name', () => {
    // An allowlist as long as synth accepts: whole entries, then the last reason padded to the limit.
    const allowlist: { pattern: string; reason: string }[] = [];
    const policyOf = () => ({ secrets: { allowlist } });
    const entry = (i: number) => ({ pattern: `fixture-token-${i}-[a-z0-9]{32}`, reason: 'Fixture tokens.' });
    while (
      JSON.stringify({ secrets: { allowlist: [...allowlist, entry(allowlist.length)] } }).length <=
      MAX_POLICY_JSON
    )
      allowlist.push(entry(allowlist.length));
    allowlist.at(-1)!.reason += '.'.repeat(MAX_POLICY_JSON - JSON.stringify(policyOf()).length);
    expect(JSON.stringify(policyOf()).length).toBe(MAX_POLICY_JSON);
    const stackName = `N${'x'.repeat(63)}`;
    const config = {
      ...parseConfig({ policy: policyOf() }, 'test', PROJECT_ROOT),
      stackName,
      alarmActions: true,
    };
    const s = synth(config);
    const functions = ofType(s.json, 'AWS::Lambda::Function').filter(([id]) => id.startsWith('Nbops'));
    expect(functions.length).toBeGreaterThanOrEqual(routed().length);
    for (const [id, fn] of functions) {
      const variables = (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
      const bytes = Object.entries(variables).reduce(
        (sum, [name, value]) => sum + name.length + longestResolvedLength(s.json, value, stackName),
        0,
      );
      expect(bytes, id).toBeLessThanOrEqual(4096);
    }
  }, 120_000);
});

describe('refusals', () => {
  it('refuses a policy too large for the handlers’ environment', () => {
    const allowlist = Array.from({ length: 40 }, (_, i) => ({
      pattern: `known-test-token-${i}-[a-z0-9]{32}`,
      reason: 'Fixture tokens of the integration tests, not secrets.',
    }));
    const config = parseConfig({ policy: { secrets: { allowlist } } }, 'test', PROJECT_ROOT);
    expect(() => createApp(config, { nag: false, context: { 'aws:cdk:bundling-stacks': [] } })).toThrow(
      /NBOPS_POLICY and Lambda allows 4 KB .*Shorten it/,
    );
  });

  it('every handler nbops knows has an access entry the stack can grant', async () => {
    const { HANDLER_ACCESS } = await import('../../infra/lib/access');
    expect(Object.keys(HANDLER_ACCESS).sort()).toEqual([...HANDLERS].sort());
  });
});
