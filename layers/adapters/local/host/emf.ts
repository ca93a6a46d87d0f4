/**
 * EMF lines written straight to stdout. On Lambda, stdout is the function's log stream and a line
 * holding an Embedded Metric Format document becomes metrics there (core/alarms/metrics.ts
 * printEmf writes such lines directly, bypassing console). A handler on the local host shares the
 * host's stdout, so while a host runs, complete EMF lines written to stdout are taken off it and
 * handed to its metric sinks (the local alarms); everything else passes through unchanged.
 */
type Sink = (line: string) => void;

const sinks = new Set<Sink>();
let original: typeof process.stdout.write | undefined;

function isEmfLine(line: string): boolean {
  return line.startsWith('{"_aws":') || (line.startsWith('{') && line.includes('"_aws":{"Timestamp"'));
}

/** Starts taking EMF lines off stdout for `sink`; returns the function that stops it. */
export function captureStdoutEmf(sink: Sink): () => void {
  sinks.add(sink);
  if (!original) {
    const write = process.stdout.write.bind(process.stdout);
    original = process.stdout.write;
    process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text =
        typeof chunk === 'string'
          ? chunk
          : chunk instanceof Uint8Array
            ? Buffer.from(chunk).toString('utf8')
            : undefined;
      if (text?.endsWith('\n')) {
        const lines = text.slice(0, -1).split('\n');
        if (lines.length > 0 && lines.every(isEmfLine)) {
          for (const line of lines) for (const s of sinks) s(line);
          const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
          callback?.();
          return true;
        }
      }
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
  }
  return () => {
    sinks.delete(sink);
    if (sinks.size === 0 && original) {
      process.stdout.write = original;
      original = undefined;
    }
  };
}
