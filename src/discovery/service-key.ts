import { InvalidArgumentError } from "../core/errors.ts";

/**
 * The key of an endpoint of a service, as Go's endpoints manager expects it: `<service>/<addr>`.
 *
 * @example
 * endpointKey("svc/api", "10.0.0.7:8080"); // "svc/api/10.0.0.7:8080"
 */
export function endpointKey(service: string, addr: string): string {
  return `${servicePrefix(service)}${addr}`;
}

/**
 * The prefix every endpoint key of a service starts with: `<service>/`.
 *
 * @example
 * servicePrefix("svc/api"); // "svc/api/"
 */
export function servicePrefix(service: string): string {
  if (service.length === 0) throw new InvalidArgumentError("the service name must not be empty");
  return `${service}/`;
}
