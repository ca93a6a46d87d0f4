/** Why the local host could not start, with what to do about it (the CLI prints the message as is). */
export type HostStartProblem = 'port-in-use' | 'corrupt-state' | 'python-missing' | 'already-running';

export class HostStartError extends Error {
  constructor(
    readonly problem: HostStartProblem,
    message: string,
  ) {
    super(message);
    this.name = 'HostStartError';
  }
}

/** No local host runs for a work folder (submit and status need one). */
export class NoHostError extends Error {
  constructor(dir: string) {
    super(
      `no local host is running for ${dir}. Start one in another terminal with \`npx nbops dev\` (add --dir ${dir} if you use another folder), or run the whole lifecycle once with \`npx nbops demo\`.`,
    );
    this.name = 'NoHostError';
  }
}
