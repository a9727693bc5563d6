import { EtcdError } from "../core/errors.ts";
import type { StandardSchemaIssue } from "./standard-schema.ts";

/**
 * A configuration value that could not be used: it is not valid JSON (or whatever `parse`
 * expects), the schema refused it, or the key was deleted. The last good value stays in place;
 * the error goes to `onError`, never into the application's code path.
 *
 * @example
 * config.onError((error) => {
 *   if (error instanceof ConfigValueError) log.warn(`${error.key} @${error.revision}: ${error.message}`);
 * });
 */
export class ConfigValueError extends EtcdError {
  override name = "ConfigValueError";
  /** The key whose value was refused (inside a namespace, without its prefix). */
  readonly key: string;
  /** The revision of the refused value (of the deletion, for a deleted key). */
  readonly revision: bigint;
  /** What the schema said, when it refused the value. */
  readonly issues: readonly StandardSchemaIssue[];
  /** Why: the value did not parse, the schema refused it, or the key was deleted. */
  readonly reason: "parse" | "schema" | "deleted";

  /** @internal */
  constructor(
    message: string,
    details: {
      key: string;
      revision: bigint;
      reason: "parse" | "schema" | "deleted";
      issues?: readonly StandardSchemaIssue[];
      cause?: unknown;
    },
  ) {
    super(message, undefined, details.cause === undefined ? {} : { cause: details.cause });
    this.key = details.key;
    this.revision = details.revision;
    this.reason = details.reason;
    this.issues = details.issues ?? [];
  }
}
