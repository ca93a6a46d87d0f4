/**
 * The ops-api handler over the lifecycle harness (s3rver + dynalite through the production
 * adapters): requests are Function URL events as Lambda sends them (built by the same function the
 * local Function URL uses), with or without the IAM identity Lambda adds after checking SigV4.
 */
import type { Context } from 'aws-lambda';
import { functionUrlEvent, type IamIdentity } from '#adapters/local/function-url';
import { makeHandler } from '../../../functions/ops-api/index';
import { lambdaContext, testDeps } from '../../unit/handlers/support';
import { ACCOUNT, REGION } from '../lifecycle/fake-sagemaker';
import type { Harness } from '../lifecycle/harness';

/** An approver of TEST_POLICY (role ml-release), as Lambda reports an assumed-role caller. */
export const LEAD = `arn:aws:sts::${ACCOUNT}:assumed-role/ml-release/lead`;
/** The uploader of the harness's versions. */
export const ALICE = 'alice@example.com';
/** Someone with API access who is no approver. */
export const MALLORY = `arn:aws:iam::${ACCOUNT}:user/mallory`;

export function iam(userArn: string): IamIdentity {
  return {
    accessKey: 'ASIAEXAMPLE',
    accountId: ACCOUNT,
    callerId: 'AROAEXAMPLE:lead',
    cognitoIdentity: null,
    principalOrgId: null,
    userArn,
    userId: 'AROAEXAMPLE:lead',
  };
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: responses are asserted field by field
  json: any;
}

export interface CallOptions {
  /** The caller's ARN; null: no IAM identity in the event. Default LEAD. */
  as?: string | null;
  body?: unknown;
  /** A body sent as is (not JSON-encoded). */
  rawBody?: string;
  requestId?: string;
}

export function opsApi(h: Harness, deps = testDeps('ops-api', { metrics: true })) {
  const handler = makeHandler({ ...deps, services: () => h.services });
  const context: Context = lambdaContext('nbops-ops-api');
  return {
    captured: deps.captured,
    /** The raw handler (for events that are not Function URL requests). */
    handler: (event: unknown) => handler(event, context),
    async call(
      method: 'GET' | 'POST' | 'PUT' | 'DELETE',
      url: string,
      options: CallOptions = {},
    ): Promise<ApiResponse> {
      const text = options.rawBody ?? (options.body === undefined ? '' : JSON.stringify(options.body));
      const headers: Record<string, string> = {
        host: `abcdefgh.lambda-url.${REGION}.on.aws`,
        ...(text ? { 'content-type': 'application/json' } : {}),
        ...(options.requestId ? { 'x-nbops-request-id': options.requestId } : {}),
      };
      const as = options.as === undefined ? LEAD : options.as;
      const event = functionUrlEvent(
        { method, url, headers, body: Buffer.from(text) },
        { ...(as === null ? {} : { iam: iam(as) }), accountId: ACCOUNT, region: REGION, port: 443 },
      );
      const result = (await handler(event, context)) as {
        statusCode: number;
        headers: Record<string, string>;
        body: string;
      };
      const json = result.headers['content-type']?.includes('json') ? JSON.parse(result.body) : undefined;
      return { status: result.statusCode, headers: result.headers, body: result.body, json };
    },
  };
}
