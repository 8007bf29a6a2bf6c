const INPUT_ERROR = Symbol.for('lead-enrich.InputError');

/** The input as a whole cannot be read: unknown format, missing file, no CSV header, not a JSON array. */
export class InputError extends Error {
  readonly [INPUT_ERROR] = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InputError';
  }
}

/** Type guard for {@link InputError} (the CLI maps it to exit code 2). */
export function isInputError(value: unknown): value is InputError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[INPUT_ERROR] === true;
}
