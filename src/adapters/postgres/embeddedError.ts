const EMBEDDED_ERROR_BRAND = Symbol.for('lead-enrich.EmbeddedPostgresError');

/** What to do when the embedded PostgreSQL cannot run here, unless a reason calls for more. */
export const EMBEDDED_ADVICE = 'set DATABASE_URL to a PostgreSQL server, or set LEAD_ENRICH_DATA_DIR to a directory the postgres user can enter';

/**
 * The embedded PostgreSQL cannot start. The message is one line, `embedded PostgreSQL: <why>;
 * <what to do>`, meant to be printed as is (the CLI prints it and exits 1): no stack trace, no
 * server output beyond the one line that explains the failure.
 */
export class EmbeddedPostgresError extends Error {
  readonly [EMBEDDED_ERROR_BRAND] = true;

  /**
   * @param why what went wrong, naming the path or program concerned (newlines are folded)
   * @param advice what the operator can do; default {@link EMBEDDED_ADVICE}
   */
  constructor(why: string, advice: string = EMBEDDED_ADVICE, options?: { cause?: unknown }) {
    super(`embedded PostgreSQL: ${oneLine(why)}; ${oneLine(advice)}`, options);
    this.name = 'EmbeddedPostgresError';
  }
}

/** Whether `value` is an {@link EmbeddedPostgresError} (across module copies). */
export function isEmbeddedPostgresError(value: unknown): value is EmbeddedPostgresError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[EMBEDDED_ERROR_BRAND] === true;
}

/** `text` on one line: line breaks and the blanks around them become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** The errno code of a failed system call (`EACCES`), or the error's class when it has none. */
export function codeOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown error';
}
