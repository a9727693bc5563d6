import { randomBytes } from "node:crypto";
import type { PermissionType } from "../auth/auth.ts";
import { Etcd } from "../client/etcd.ts";
import type { TlsOptions } from "../connection/tls-options.ts";
import type { KeyOrRange } from "../core/keys.ts";

/**
 * A role to create, with its permissions.
 *
 * @example
 * const role: TestRole = { name: "app", permissions: [{ keys: prefix("app/"), type: "readwrite" }] };
 */
export interface TestRole {
  name: string;
  /** Keys (a key, or `prefix(...)`, `range(...)`...) and what the role may do with them. */
  permissions?: Array<{ keys: KeyOrRange; type: PermissionType }>;
}

/**
 * A user to create, with a password and roles.
 *
 * @example
 * const user: TestUser = { name: "app", password: "app-pw", roles: ["app"] };
 */
export interface TestUser {
  name: string;
  password: string;
  /** Roles to grant (created by `roles` or etcd's own `root`). */
  roles?: string[];
}

/**
 * Users and roles a test cluster sets up before enabling authentication. The user `root` (role
 * `root`) always exists: etcd refuses to enable auth without it.
 *
 * @example
 * await TestCluster.start({
 *   auth: {
 *     roles: [{ name: "reader", permissions: [{ keys: prefix("cfg/"), type: "read" }] }],
 *     users: [{ name: "viewer", password: "viewer-pw", roles: ["reader"] }],
 *   },
 * });
 */
export interface AuthSetup {
  /** The root user's password; default a random one (`cluster.clientOptions()` knows it). */
  rootPassword?: string;
  roles?: TestRole[];
  users?: TestUser[];
}

const rootPasswords = new WeakMap<AuthSetup, string>();

/**
 * The password of `name` in `setup` (for root: the given or generated one).
 *
 * @example
 * const password = userPassword(cluster.auth, "root");
 */
export function userPassword(setup: AuthSetup, name: string): string {
  if (name === "root") {
    let password = setup.rootPassword ?? rootPasswords.get(setup);
    if (password === undefined) {
      password = randomBytes(12).toString("hex");
      rootPasswords.set(setup, password);
    }
    return password;
  }
  const user = setup.users?.find((u) => u.name === name);
  if (!user) throw new Error(`no user ${name} was set up on this cluster`);
  return user.password;
}

/**
 * Creates root, the roles and the users of `setup`, then enables authentication.
 *
 * @example
 * await enableAuth(cluster.endpoints, undefined, { users: [{ name: "app", password: "pw" }] });
 */
export async function enableAuth(
  endpoints: string[],
  tls: TlsOptions | undefined,
  setup: AuthSetup,
): Promise<void> {
  await using etcd = new Etcd({ endpoints, timeoutMs: 10_000, ...(tls ? { tls } : {}) });
  await etcd.auth.userAdd("root", userPassword(setup, "root"));
  await etcd.auth.userGrantRole("root", "root");
  for (const role of setup.roles ?? []) {
    await etcd.auth.roleAdd(role.name);
    for (const permission of role.permissions ?? []) {
      await etcd.auth.roleGrantPermission(role.name, permission.keys, permission.type);
    }
  }
  for (const user of setup.users ?? []) {
    if (user.name === "root") continue;
    await etcd.auth.userAdd(user.name, user.password);
    for (const role of user.roles ?? []) await etcd.auth.userGrantRole(user.name, role);
  }
  await etcd.auth.enable();
}
