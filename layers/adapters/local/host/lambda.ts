/** The Lambda invocation context a local handler gets: what Powertools and middy read from it. */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { AwsLocation } from '../aws-event';

/** The functions' timeout in the AWS stack is at most Lambda's 15 minutes. */
const TIMEOUT_MS = 15 * 60 * 1000;

export function functionName(handler: string): string {
  return `nbops-${handler}`;
}

export function lambdaContext(handler: string, location: AwsLocation): Context {
  const name = functionName(handler);
  const deadline = Date.now() + TIMEOUT_MS;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${location.region}:${location.account}:function:${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: `local/[$LATEST]${process.pid}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
