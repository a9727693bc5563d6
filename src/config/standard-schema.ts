/**
 * The Standard Schema interface (version 1): what zod, valibot, arktype and other validators
 * expose under `~standard`. Written here so that no validator is a dependency: pass any schema
 * that implements it, or write one by hand.
 *
 * @example
 * const port: StandardSchema<number> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "my-app",
 *     validate: (value) =>
 *       Number.isInteger(value) ? { value: value as number } : { issues: [{ message: "not an integer" }] },
 *   },
 * };
 */
export interface StandardSchema<Output = unknown, Input = unknown> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (
      value: unknown,
    ) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/**
 * What a Standard Schema's `validate` returns: the value (possibly transformed), or the issues.
 *
 * @example
 * const result = await schema["~standard"].validate(input);
 * if (result.issues) console.log(result.issues.map((i) => i.message));
 */
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: readonly StandardSchemaIssue[] };

/**
 * One problem a validator found, with where in the value it is.
 *
 * @example
 * const where = issue.path?.map((p) => (typeof p === "object" ? p.key : p)).join(".");
 */
export interface StandardSchemaIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/**
 * The output type of a Standard Schema.
 *
 * @example
 * type Port = InferOutput<typeof portSchema>; // number
 */
export type InferOutput<S extends StandardSchema> = S extends StandardSchema<infer O> ? O : never;
