/** Thrown by the `ensure*` syntax checks; the message says what is wrong. */
export class InvalidSyntaxError extends Error {
  override name = 'InvalidSyntaxError';
}

export type Ensure = (value: unknown) => asserts value is string;

/** Builds the `ensure*` variant of a checker that returns an error message or null. */
export function ensurer(check: (value: string) => string | null): Ensure {
  return (value: unknown) => {
    if (typeof value !== 'string') throw new InvalidSyntaxError('expected a string');
    const problem = check(value);
    if (problem) throw new InvalidSyntaxError(problem);
  };
}
