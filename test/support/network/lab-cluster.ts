import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { atExit } from "../../../src/testing/cleanup.ts";
import { etcdBinary } from "../../../src/testing/etcd-binary.ts";
import { fetchText, isHealthy } from "../../../src/testing/http-probe.ts";
import { TestMember } from "../../../src/testing/member.ts";
import { NetworkLab } from "./network-lab.ts";

/**
 * How to start a cluster in a network lab.
 *
 * @example
 * const options: LabClusterOptions = { size: 3, args: ["--experimental-enable-lease-checkpoint"] };
 */
export interface LabClusterOptions {
  /** Number of members, default 3. */
  size?: number;
  /** Extra etcd flags for every member. */
  args?: string[];
  /** The etcd executable; default `etcdBinary()`. */
  binary?: string;
}

/**
 * A plain-http etcd cluster whose members each run in a namespace of a `NetworkLab`, so that
 * tests can partition it: `cluster.lab.isolate(member.name)`, `cluster.lab.heal()`. The same
 * member controls as `TestCluster` (kill, pause, restart) and the same waits (healthy, leader).
 *
 * @example
 * await using cluster = await LabCluster.start({ size: 3 });
 * const leader = await cluster.waitLeader();
 * await cluster.lab.isolate(leader.name);
 */
export class LabCluster {
  readonly lab: NetworkLab;
  readonly members: TestMember[] = [];
  readonly root: string;
  #disposeCleanup: (() => void) | undefined;

  private constructor(lab: NetworkLab, root: string) {
    this.lab = lab;
    this.root = root;
    this.#disposeCleanup = atExit(() => rmSync(root, { recursive: true, force: true }));
  }

  static async start(options: LabClusterOptions = {}): Promise<LabCluster> {
    const size = options.size ?? 3;
    const names = Array.from({ length: size }, (_, i) => `m${i}`);
    const lab = await NetworkLab.create(names);
    const cluster = new LabCluster(lab, mkdtempSync(join(tmpdir(), "etcd-connect-lab-")));
    const binary = options.binary ?? etcdBinary();
    const peer = (name: string) => `http://${lab.address(name)}:2380`;
    const initialCluster = names.map((n) => `${n}=${peer(n)}`).join(",");
    for (const name of names) {
      const clientUrl = `http://${lab.address(name)}:2379`;
      const dataDir = join(cluster.root, name);
      const args = [
        "netns",
        "exec",
        lab.namespace(name),
        binary,
        `--name=${name}`,
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peer(name)}`,
        `--initial-advertise-peer-urls=${peer(name)}`,
        `--initial-cluster=${initialCluster}`,
        `--initial-cluster-token=etcdlab-${process.pid}-${lab.subnet}`,
        "--initial-cluster-state=new",
        "--logger=zap",
        "--log-outputs=stderr",
        "--log-level=warn",
        ...(options.args ?? []),
      ];
      // `ip netns exec` execs etcd in place: the member's pid is etcd's, so pause and kill reach it.
      cluster.members.push(new TestMember(name, clientUrl, peer(name), dataDir, args, "ip"));
    }
    try {
      for (const member of cluster.members) member.start();
      await cluster.waitHealthy();
    } catch (error) {
      const logs = cluster.logs();
      await cluster.stop();
      throw new Error(`etcd in the network lab did not become healthy: ${String(error)}\n${logs}`);
    }
    return cluster;
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  /** Waits until every running, unpaused member answers /health (a partitioned one may not). */
  async waitHealthy(timeoutMs = 30_000, members = this.members): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const member of members) {
      if (member.paused || !member.running) continue;
      while (!(await isHealthy(member.clientUrl))) {
        if (!member.running) throw new Error(`${member.name} exited:\n${member.logTail()}`);
        if (Date.now() > deadline) throw new Error(`${member.name} not healthy in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /**
   * The member that says it leads. During a partition an isolated old leader can still say so
   * for a moment; `among` limits the question to some members (the majority side, say).
   */
  async leader(among = this.members): Promise<TestMember | undefined> {
    for (const member of among) {
      if (!member.running || member.paused) continue;
      const metrics = await fetchText(`${member.clientUrl}/metrics`).catch(() => "");
      if (/^etcd_server_is_leader 1$/m.test(metrics)) return member;
    }
    return undefined;
  }

  async waitLeader(timeoutMs = 30_000, among = this.members): Promise<TestMember> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const leader = await this.leader(among);
      if (leader) return leader;
      if (Date.now() > deadline)
        throw new Error(`no leader within ${timeoutMs} ms\n${this.logs()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** One Prometheus metric's value summed over its series, from one member. */
  async metric(member: TestMember, name: string): Promise<number> {
    const text = await fetchText(`${member.clientUrl}/metrics`);
    let sum = 0;
    for (const line of text.split("\n")) {
      if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
        sum += Number(line.slice(line.lastIndexOf(" ") + 1));
      }
    }
    return sum;
  }

  logs(lines = 40): string {
    return this.members
      .map((m) => `--- ${m.name} (${m.clientUrl}) ---\n${m.logTail(lines)}`)
      .join("\n");
  }

  /** Kills the members, deletes the data and the lab. Safe to call twice. */
  async stop(): Promise<void> {
    for (const member of this.members) {
      if (member.paused) member.resume();
      await member.kill();
    }
    rmSync(this.root, { recursive: true, force: true });
    this.lab.close();
    this.#disposeCleanup?.();
    this.#disposeCleanup = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
