import { TestCluster, type TestClusterOptions } from "./cluster.ts";

/**
 * A test framework's "before all" and "after all" hooks: node:test's `before`/`after`, vitest's
 * (and Jest's) `beforeAll`/`afterAll`.
 *
 * @example
 * import { after, before } from "node:test";
 * const hooks: SuiteHooks = { before, after };
 */
export interface SuiteHooks {
  before(fn: () => Promise<void>): unknown;
  after(fn: () => Promise<void>): unknown;
}

/**
 * What `useTestCluster` gives: the cluster, once the suite's "before" hook has started it.
 *
 * @example
 * const etcd = useTestCluster({ before, after });
 * test("put", async () => { await using client = new Etcd(etcd.cluster.clientOptions()); });
 */
export interface TestClusterFixture {
  /** The running cluster; throws before the "before" hook ran. */
  readonly cluster: TestCluster;
}

/**
 * Starts a test cluster in the suite's "before" hook and stops it in its "after" hook (which the
 * frameworks run also when tests fail). Works with any framework that has both hooks.
 *
 * @example
 * // node:test
 * import { after, before, test } from "node:test";
 * const etcd = useTestCluster({ before, after }, { size: 3 });
 * // vitest
 * import { afterAll, beforeAll, test } from "vitest";
 * const etcd = useTestCluster({ before: beforeAll, after: afterAll });
 */
export function useTestCluster(
  hooks: SuiteHooks,
  options: TestClusterOptions = {},
): TestClusterFixture {
  let started: TestCluster | undefined;
  hooks.before(async () => {
    started = await TestCluster.start(options);
  });
  hooks.after(async () => {
    await started?.stop();
  });
  return {
    get cluster(): TestCluster {
      if (!started) throw new Error("the test cluster is started in the suite's before hook");
      return started;
    },
  };
}
