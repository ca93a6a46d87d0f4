// The local event bus fed by real producers: s3rver's notifications (through its own in-process
// emulator, whose event hook a test worker can reach) and LocalSageMaker's state changes.

import { rm } from 'node:fs/promises';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsEvent } from '#adapters/local/aws-event';
import { type Emulators, localS3Client, startEmulators } from '#adapters/local/emulators';
import { LocalEventBus } from '#adapters/local/event-bus';
import { parseNotebookUploads } from '#core/events/s3';
import { parseTrainingJobStateChange } from '#core/events/sagemaker';
import { buildCreateTrainingJob } from '#core/sagemaker/requests';
import type { HandlerName } from '#core/wiring';
import {
  churnContext,
  localSageMaker,
  newBucket,
  notebookOf,
  publishRuntime,
  uploadNotebook,
} from './helpers';

let emulators: Emulators;
beforeAll(async () => {
  emulators = await startEmulators();
});
afterAll(async () => {
  await emulators?.stop();
});

function recordingBus(bucketName: string) {
  const calls: { handler: HandlerName; event: AwsEvent }[] = [];
  const bus = new LocalEventBus({
    bucketName,
    retryBaseMs: 5,
    log: () => {},
    dispatch: async (handler, event) => {
      calls.push({ handler, event });
    },
  });
  return { bus, calls };
}

describe('LocalEventBus with real producers', () => {
  it('routes s3rver uploads under notebooks/ to submit, with the key exactly as stored', async () => {
    const client = localS3Client(emulators.s3.endpoint);
    const bucket = 'nbops-bus-uploads';
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const { bus, calls } = recordingBus(bucket);
    const unsubscribe = bus.connectS3(emulators);
    try {
      const key = 'notebooks/churn/Churn v2+final.ipynb';
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: '{"cells": []}' }));
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'reports/elsewhere.json', Body: '{}' }));
      await new Promise((r) => setTimeout(r, 100));
      await bus.idle();

      expect(calls.map((c) => c.handler)).toEqual(['submit']);
      const event = calls[0]!.event;
      expect(event).toMatchObject({
        source: 'aws.s3',
        'detail-type': 'Object Created',
        detail: { reason: 'PutObject' },
      });
      const [upload] = parseNotebookUploads(event);
      expect(upload).toMatchObject({ bucket, key, size: '{"cells": []}'.length });
    } finally {
      unsubscribe();
    }
  });

  it('delivers LocalSageMaker training events to the training-state handler', {
    timeout: 30_000,
  }, async () => {
    const { bucket, store } = await newBucket();
    const runtime = await publishRuntime(store, bucket);
    const { bus, calls } = recordingBus(bucket);
    const h = await localSageMaker(store, { onEvent: (event) => bus.put(event) });
    try {
      const ctx = churnContext(bucket, runtime, 1, 'ab'.repeat(32));
      await uploadNotebook(store, ctx, notebookOf('epochs = 1', 'print("trained", epochs)'));
      const request = buildCreateTrainingJob(ctx);
      await h.sagemaker.createTrainingJob(request);
      await h.sagemaker.settle();
      await bus.idle();
      // InProgress, Stopping... are not routed; the terminal state is, exactly once
      expect(calls.map((c) => c.handler)).toEqual(['training-state']);
      expect(parseTrainingJobStateChange(calls[0]!.event)).toMatchObject({
        trainingJobName: request.TrainingJobName,
        status: 'Completed',
      });
    } finally {
      await h.sagemaker.close();
      await rm(h.workDir, { recursive: true, force: true });
    }
  });
});
