import { type DescMethod, getOption, hasOption } from "@bufbuild/protobuf";
import { http } from "../../gen/google/api/annotations_pb.ts";

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
    if (hasOption(method, http)) {
      const rule = getOption(method, http);
      for (const binding of [rule, ...rule.additionalBindings]) {
        if (binding.pattern.case === "post") found.push(binding.pattern.value);
      }
    }
    routes = found;
    cache.set(method, routes);
  }
  return routes;
}
