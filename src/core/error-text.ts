/**
 * An error's message, or anything else as text, for messages that name their cause.
 *
 * @example
 * new Error(`cannot reach ${authority}: ${errorText(cause)}`);
 */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
