import { create, type DescMethod, mergeFromBinary } from "@bufbuild/protobuf";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { http } from "../../gen/google/api/annotations_pb.ts";
import { type HttpRule, HttpRuleSchema } from "../../gen/google/api/http_pb.ts";

const cache = new Map<DescMethod, readonly string[]>();

/**
 * The JSON gateway paths of one RPC, read from the `google.api.http` option in the generated
 * descriptors (etcd's own routes, restored in proto/): the primary binding first, then the
 * additional ones (etcd 3.4 to 3.7 keep the lease routes' old `/v3/kv/lease/...` paths there).
 * Empty when etcd's gateway does not serve the RPC (RangeStream, the health service).
 *
 * @example
 * gatewayRoutes(KV.method.range); // ["/v3/kv/range"]
 */
export function gatewayRoutes(method: DescMethod): readonly string[] {
  let routes = cache.get(method);
  if (routes === undefined) {
    const found: string[] = [];
    const rule = httpRule(method);
    if (rule !== undefined) {
      for (const binding of [rule, ...rule.additionalBindings]) {
        if (binding.pattern.case === "post") found.push(binding.pattern.value);
      }
    }
    routes = found;
    cache.set(method, routes);
  }
  return routes;
}

/**
 * The method's `google.api.http` option, as protobuf-es's `getOption(method, http)` reads it
 * (the option's occurrences among the options' unknown fields, merged), without the reflection
 * API that `getOption` brings into the web bundle for this one read.
 */
function httpRule(method: DescMethod): HttpRule | undefined {
  let rule: HttpRule | undefined;
  for (const field of method.proto.options?.$unknown ?? []) {
    if (field.no !== http.number) continue;
    rule ??= create(HttpRuleSchema);
    mergeFromBinary(HttpRuleSchema, rule, new BinaryReader(field.data).bytes());
  }
  return rule;
}
