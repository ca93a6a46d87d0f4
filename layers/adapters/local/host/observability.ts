/**
 * Powertools Logger, Metrics and Tracer for a handler on the local host: the same objects the
 * Lambda functions use (functions/commons/observability.ts), configured the same way, but writing
 * to the host instead of stdout. On Lambda, stdout is the function's CloudWatch log stream, where
 * JSON logs are kept and EMF documents become metrics; locally each line goes to `sink`, which
 * keeps the logs in a file and hands EMF documents to the local alarms.
 */
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { HandlerName } from '#core/wiring';
import { METRICS_NAMESPACE, type Observability } from '../../../../functions/commons/observability';

/** Receives every line a handler's Powertools objects print. */
export type LineSink = (line: string, handler: HandlerName) => void;

function lineStream(onLine: (line: string) => void): Writable {
  let pending = '';
  return new Writable({
    write(chunk, _encoding, done) {
      pending += chunk.toString();
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.trim() !== '') onLine(line);
        newline = pending.indexOf('\n');
      }
      done();
    },
  });
}

export function localObservability(handler: HandlerName, sink: LineSink): Observability {
  const stream = lineStream((line) => sink(line, handler));
  const output = new Console({ stdout: stream, stderr: stream });
  const logger = new Logger({ serviceName: handler });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: handler, logger: output });
  // X-Ray needs the Lambda runtime; the Tracer is kept (the middleware stack is the same) but off.
  const tracer = new Tracer({ serviceName: handler, enabled: false });
  // Both write through a private Console built on process.stdout; point it at the sink instead.
  for (const utility of [logger, metrics]) (utility as unknown as { console: Console }).console = output;
  return { logger, metrics, tracer };
}
