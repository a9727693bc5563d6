import { execFile } from "node:child_process";
import { etcdctlBinary, etcdutlBinary } from "./etcd-binary.ts";

export interface EtcdctlResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

interface ToolOptions {
  input?: string | Uint8Array;
  allowFailure?: boolean;
  env?: Record<string, string>;
}

/**
 * Runs etcdctl (API v3) against `endpoints` and returns raw stdout bytes, so binary values can be
 * compared byte for byte. Rejects on a non-zero exit unless `allowFailure`.
 */
export function etcdctl(
  endpoints: string[],
  args: string[],
  options: ToolOptions = {},
): Promise<EtcdctlResult> {
  return runTool(etcdctlBinary(), [`--endpoints=${endpoints.join(",")}`, ...args], options);
}

/**
 * Runs etcdutl (the offline tool: `snapshot status`, ...) and returns its output. Rejects on a
 * non-zero exit unless `allowFailure`.
 *
 * @example
 * const { stdout } = await etcdutl(["snapshot", "status", file, "-w", "json"]);
 */
export function etcdutl(args: string[], options: ToolOptions = {}): Promise<EtcdctlResult> {
  return runTool(etcdutlBinary(), args, options);
}

function runTool(binary: string, args: string[], options: ToolOptions): Promise<EtcdctlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      binary,
      args,
      {
        encoding: "buffer",
        env: { ...process.env, ETCDCTL_API: "3", ...options.env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        const result = { stdout, stderr: stderr.toString("utf8"), code };
        if (code !== 0 && !options.allowFailure) {
          reject(new Error(`${binary} ${args.join(" ")} exited ${code}: ${result.stderr}`));
        } else resolve(result);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}
