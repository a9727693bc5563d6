import { type Client, Code } from "@connectrpc/connect";
import {
  DowngradeRequest_DowngradeAction,
  type Maintenance as MaintenanceService,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import { connectOptions } from "../connection/connect-options.ts";
import type { CallOptions } from "../core/call-options.ts";
import { NotCapableError, toEtcdError } from "../core/errors.ts";
import { type ResponseHeader, toHeader } from "../kv/key-value.ts";

/**
 * What etcd answers to a downgrade request: the cluster version it runs at (such as "3.7",
 * or "3.5.0" from etcd 3.5), and the header.
 *
 * @example
 * const { clusterVersion } = await etcd.maintenance.downgradeValidate("3.6");
 */
export interface DowngradeResult {
  /** The header of the member that answered. */
  header: ResponseHeader;
  /** The cluster version when etcd answered: the current one, not the target. */
  clusterVersion: string;
}

/**
 * A member's view of a downgrade, from `status()`: whether one is enabled, and to which
 * version. Members before etcd 3.6 do not report it: there it reads `{ enabled: false,
 * targetVersion: "" }`.
 *
 * @example
 * const { downgradeInfo } = await etcd.maintenance.status({ endpoint });
 * if (downgradeInfo.enabled) console.log(`downgrading to ${downgradeInfo.targetVersion}`);
 */
export interface DowngradeState {
  /** True from `downgradeEnable` until the downgrade completes or is cancelled. */
  enabled: boolean;
  /** Such as "3.6.0"; "" when no downgrade is enabled. */
  targetVersion: string;
}

/** The three things a downgrade request can ask. */
export type DowngradeAction = "validate" | "enable" | "cancel";

const actions: Record<DowngradeAction, DowngradeRequest_DowngradeAction> = {
  validate: DowngradeRequest_DowngradeAction.VALIDATE,
  enable: DowngradeRequest_DowngradeAction.ENABLE,
  cancel: DowngradeRequest_DowngradeAction.CANCEL,
};

/**
 * Sends one Downgrade request. It is a write for the retry rules: never sent again once it may
 * have left. A member without the RPC (etcd 3.4) answers Unimplemented: that becomes a
 * `NotCapableError` that keeps the server's message.
 *
 * @example
 * await sendDowngrade(client, "validate", "3.6", {});
 */
export async function sendDowngrade(
  client: Client<typeof MaintenanceService>,
  action: DowngradeAction,
  version: string,
  options: CallOptions,
): Promise<DowngradeResult> {
  try {
    const response = await client.downgrade(
      { action: actions[action], version },
      connectOptions(options),
    );
    return { header: toHeader(response.header), clusterVersion: response.version };
  } catch (error) {
    const etcdError = toEtcdError(error, options);
    if (etcdError.code === Code.Unimplemented) {
      throw new NotCapableError(etcdError.rawMessage, Code.Unimplemented, { cause: error });
    }
    throw etcdError;
  }
}
