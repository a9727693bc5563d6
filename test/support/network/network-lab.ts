import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { atExit } from "../../../src/testing/cleanup.ts";

const run = promisify(execFile);

/** Where each lab claims its subnet number (a directory per lab, holding the owner's pid). */
const CLAIMS = "/run/etcd-connect-netlab";
const PREFIX = "etcdlab";
/** Only these addresses are ever used: 10.213.<lab>.0/24, in namespaces the lab made. */
const NET = "10.213";
/** The test process's address (root namespace, on the veth into the lab's bridge). */
const CLIENT_HOST = 1;
const FIRST_NODE_HOST = 10;

/** Who sends or receives: a node of the lab, or the test process ("client"). */
export type Endpoint = string;
export const CLIENT: Endpoint = "client";

/**
 * Why this machine cannot run network labs (not root, no `ip` or `nft`, namespaces refused), or
 * undefined when it can. Tests pass it as `skip`.
 *
 * @example
 * test("isolated member", { skip: networkLabUnavailable() }, async () => { ... });
 */
export function networkLabUnavailable(): string | undefined {
  if (cachedReason !== null) return cachedReason;
  cachedReason = probe();
  return cachedReason;
}
let cachedReason: string | undefined | null = null;

function probe(): string | undefined {
  if (process.platform !== "linux") return "network namespaces need Linux";
  if (process.getuid?.() !== 0) return "network namespaces need root (run the tests as root)";
  for (const tool of ["ip", "nft"]) {
    try {
      execFileSync(tool, ["-V"], { stdio: "ignore" });
    } catch {
      return `no \`${tool}\` on PATH (Debian: apt-get install ${tool === "ip" ? "iproute2" : "nftables"})`;
    }
  }
  const name = `${PREFIX}-probe-${process.pid}`;
  try {
    execFileSync("ip", ["netns", "add", name], { stdio: "pipe" });
    execFileSync("ip", ["netns", "exec", name, "nft", "list", "ruleset"], { stdio: "pipe" });
  } catch (error) {
    return `cannot create a network namespace with nftables: ${String((error as { stderr?: unknown }).stderr ?? error).trim()}`;
  } finally {
    try {
      execFileSync("ip", ["netns", "del", name], { stdio: "ignore" });
    } catch {}
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function quietly(args: string[]): void {
  try {
    execFileSync("ip", args, { stdio: "ignore" });
  } catch {}
}

/**
 * Removes what labs of processes that are gone left behind (a test process killed with SIGKILL
 * runs no exit handler): their namespaces, their root-side veth and their claim.
 */
export function sweepStaleLabs(): void {
  const owners = new Map<string, number>();
  if (existsSync(CLAIMS)) {
    for (const subnet of readdirSync(CLAIMS)) {
      let pid = process.pid; // a claim whose pid is not written yet is being made: alive
      try {
        pid = Number(readFileSync(join(CLAIMS, subnet, "pid"), "utf8").trim());
      } catch {}
      owners.set(subnet, pid);
    }
  }
  const namespaces = execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(`${PREFIX}-`));
  for (const name of namespaces) {
    const subnet = /^etcdlab-(\d+)-/.exec(name)?.[1];
    if (subnet === undefined) continue;
    const pid = owners.get(subnet);
    if (pid === undefined || !alive(pid)) quietly(["netns", "del", name]);
  }
  for (const [subnet, pid] of owners) {
    if (alive(pid)) continue;
    quietly(["link", "del", `elab${subnet}`]);
    rmSync(join(CLAIMS, subnet), { recursive: true, force: true });
  }
}

/** Claims a free subnet number (atomically: mkdir fails for a number another lab holds). */
function claimSubnet(): number {
  mkdirSync(CLAIMS, { recursive: true });
  for (let subnet = 1; subnet < 255; subnet++) {
    try {
      mkdirSync(join(CLAIMS, String(subnet)));
    } catch {
      continue;
    }
    writeFileSync(join(CLAIMS, String(subnet), "pid"), String(process.pid));
    return subnet;
  }
  throw new Error("no free 10.213.x.0/24 subnet for a network lab");
}

/**
 * Network namespaces of the test's own making, one per node, on a bridge in a namespace of its
 * own, with addresses in 10.213.<n>.0/24 that exist only there. The test process stays in the root
 * namespace and reaches the nodes through one veth into the bridge (its address is `clientAddress`);
 * nothing else in the root namespace changes. Links are cut inside the nodes' namespaces with
 * nftables (packets dropped, as a real partition does), so every cut can be healed:
 *
 * - `cut(a, b)` drops packets both ways between two nodes, or between a node and the client;
 *   `cut(a, b, "one-way")` only those from `a` to `b`;
 * - `isolate(node)` cuts a node from every other node (the client still reaches it);
 * - `split(groupA, groupB)` cuts every link between the two groups;
 * - `heal()` restores every link.
 *
 * `close()` deletes it all; so do exit handlers (a failing test, SIGINT, SIGTERM) and, for a lab
 * whose process was killed outright, the sweep the next lab runs when it starts.
 *
 * @example
 * await using lab = await NetworkLab.create(["m0", "m1", "m2"]);
 * await lab.isolate("m0");
 * await lab.heal();
 */
export class NetworkLab {
  readonly subnet: number;
  readonly nodes: readonly string[];
  /** Blocked directed links, as "from>to". */
  readonly #blocked = new Set<string>();
  #disposeCleanup: (() => void) | undefined;

  private constructor(subnet: number, nodes: string[]) {
    this.subnet = subnet;
    this.nodes = nodes;
    this.#disposeCleanup = atExit(() => this.#removeSync());
  }

  /** Builds the lab: a namespace with a bridge, one namespace per node, the client's veth. */
  static async create(nodes: string[]): Promise<NetworkLab> {
    const reason = networkLabUnavailable();
    if (reason) throw new Error(`network lab unavailable: ${reason}`);
    sweepStaleLabs();
    const lab = new NetworkLab(claimSubnet(), nodes);
    try {
      await lab.#build();
    } catch (error) {
      lab.close();
      throw error;
    }
    return lab;
  }

  /** The namespace a node runs in (for `ip netns exec`). */
  namespace(node: string): string {
    const index = this.#index(node);
    return `${PREFIX}-${this.subnet}-n${index}`;
  }

  /** A node's address. */
  address(node: Endpoint): string {
    if (node === CLIENT) return this.clientAddress;
    return `${NET}.${this.subnet}.${FIRST_NODE_HOST + this.#index(node)}`;
  }

  /** The test process's address on the lab's network. */
  get clientAddress(): string {
    return `${NET}.${this.subnet}.${CLIENT_HOST}`;
  }

  /** Drops packets between `a` and `b` (both ways), or only from `a` to `b` with "one-way". */
  async cut(a: Endpoint, b: Endpoint, direction: "both" | "one-way" = "both"): Promise<void> {
    this.#blocked.add(`${a}>${b}`);
    if (direction === "both") this.#blocked.add(`${b}>${a}`);
    await this.#apply();
  }

  /** Cuts `node` from every other node; the client still reaches it unless `client` is set. */
  async isolate(node: string, options: { client?: boolean } = {}): Promise<void> {
    const others: Endpoint[] = this.nodes.filter((n) => n !== node);
    if (options.client) others.push(CLIENT);
    for (const other of others) {
      this.#blocked.add(`${node}>${other}`);
      this.#blocked.add(`${other}>${node}`);
    }
    await this.#apply();
  }

  /** Cuts every link between the two groups (the client counts as a node here). */
  async split(groupA: Endpoint[], groupB: Endpoint[]): Promise<void> {
    for (const a of groupA) {
      for (const b of groupB) {
        this.#blocked.add(`${a}>${b}`);
        this.#blocked.add(`${b}>${a}`);
      }
    }
    await this.#apply();
  }

  /** Restores every link. */
  async heal(): Promise<void> {
    this.#blocked.clear();
    await this.#apply();
  }

  /** The cuts in force, "from>to" each. */
  get cuts(): string[] {
    return [...this.#blocked].sort();
  }

  /** Deletes the namespaces (the veths and the bridge go with them) and the claim. */
  close(): void {
    this.#removeSync();
    this.#disposeCleanup?.();
    this.#disposeCleanup = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  #index(node: string): number {
    const index = this.nodes.indexOf(node);
    if (index < 0) throw new Error(`no node ${node} in the lab (${this.nodes.join(", ")})`);
    return index;
  }

  get #hub(): string {
    return `${PREFIX}-${this.subnet}-hub`;
  }

  async #build(): Promise<void> {
    const hub = this.#hub;
    const rootVeth = `elab${this.subnet}`;
    const ip = (...args: string[]) => run("ip", args);
    await ip("netns", "add", hub);
    await ip("-n", hub, "link", "set", "lo", "up");
    await ip("-n", hub, "link", "add", "br0", "type", "bridge");
    await ip("-n", hub, "link", "set", "br0", "up");
    await ip("link", "add", rootVeth, "type", "veth", "peer", "name", "client", "netns", hub);
    await ip("-n", hub, "link", "set", "client", "master", "br0", "up");
    await ip("addr", "add", `${this.clientAddress}/24`, "dev", rootVeth);
    await ip("link", "set", rootVeth, "up");
    for (const node of this.nodes) {
      const ns = this.namespace(node);
      const port = `n${this.#index(node)}`;
      await ip("netns", "add", ns);
      await ip("-n", hub, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns);
      await ip("-n", hub, "link", "set", port, "master", "br0", "up");
      await ip("-n", ns, "link", "set", "lo", "up");
      await ip("-n", ns, "addr", "add", `${this.address(node)}/24`, "dev", "eth0");
      await ip("-n", ns, "link", "set", "eth0", "up");
    }
    await this.#apply();
  }

  /** Rewrites each node's rules from the blocked set, one atomic nft transaction per node. */
  async #apply(): Promise<void> {
    await Promise.all(
      this.nodes.map((node) => {
        const rules: string[] = [];
        for (const link of this.#blocked) {
          const [from, to] = link.split(">") as [string, string];
          // Cuts between nodes are made at the sender; the client's, at the node's end.
          if (from === node) rules.push(`add rule inet lab out ip daddr ${this.address(to)} drop`);
          if (to === node && from === CLIENT)
            rules.push(`add rule inet lab in ip saddr ${this.clientAddress} drop`);
        }
        const script = [
          "table inet lab {",
          "  chain in { type filter hook input priority 0; policy accept; }",
          "  chain out { type filter hook output priority 0; policy accept; }",
          "}",
          "flush table inet lab",
          ...rules,
          "",
        ].join("\n");
        return nft(this.namespace(node), script);
      }),
    );
  }

  #removeSync(): void {
    for (const node of this.nodes) quietly(["netns", "del", this.namespace(node)]);
    quietly(["netns", "del", this.#hub]);
    quietly(["link", "del", `elab${this.subnet}`]);
    rmSync(join(CLAIMS, String(this.subnet)), { recursive: true, force: true });
  }
}

function nft(namespace: string, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile("ip", ["netns", "exec", namespace, "nft", "-f", "-"], (error) =>
      error ? reject(error) : resolve(),
    );
    child.stdin?.end(script);
  });
}
