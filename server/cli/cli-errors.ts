// The two ways a command fails, by exit code: the command line itself is wrong (2), or the
// command could not do what was asked (1). Both print one line, never a stack.

/** Wrong arguments: missing, extra, malformed (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A well-formed command that cannot be carried out: unknown user, user exists (exit code 1). */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}
