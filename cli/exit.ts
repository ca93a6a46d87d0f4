/** Exit codes scripts can rely on. */
export const EXIT = {
  ok: 0,
  /** The notebook (or request, or state) has errors. */
  findings: 1,
  /** Bad usage, unreadable input, invalid policy file. */
  usage: 2,
} as const;

/** An error whose message is meant for the user as is (no stack trace). */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
