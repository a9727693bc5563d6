import { etcdAtLeast } from "../../src/testing/etcd-binary.ts";

export {
  etcdAtLeast,
  etcdBinary,
  etcdctlBinary,
  etcdVersion,
} from "../../src/testing/etcd-binary.ts";

/**
 * The flag that makes etcd send watch progress notifications every `interval` (such as "1s"):
 * 3.6 renamed etcd's `--experimental-*` flags and 3.7 removed the old names.
 */
export function progressNotifyFlag(interval: string): string {
  const name = etcdAtLeast(3, 6)
    ? "--watch-progress-notify-interval"
    : "--experimental-watch-progress-notify-interval";
  return `${name}=${interval}`;
}
