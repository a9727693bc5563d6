import type { FlagSpec } from "./command.ts";

/**
 * Flags every command accepts, named like etcdctl's.
 *
 * @example
 * parseArgs({ args, options: { ...globalFlags, ...command.flags } });
 */
export const globalFlags = {
  endpoints: {
    type: "string",
    description: "comma-separated member URLs (default $ETCD_ENDPOINTS, else 127.0.0.1:2379)",
  },
  "write-out": { type: "string", short: "w", description: "output format: simple, json or table" },
  "dial-timeout": { type: "string", description: "time to wait for a connection (default 2s)" },
  "command-timeout": {
    type: "string",
    description: "deadline of short commands, retries included (default 5s)",
  },
  cacert: { type: "string", description: "trust the CA certificates in this PEM file" },
  cert: { type: "string", description: "client certificate PEM file, for --client-cert-auth" },
  key: { type: "string", description: "private key PEM file of --cert" },
  "insecure-skip-tls-verify": {
    type: "boolean",
    description: "accept any server certificate (no CA or host name check): for tests only",
  },
  user: { type: "string", description: "user name[:password] for etcd authentication" },
  password: { type: "string", description: "password of --user (prompted for when missing)" },
  debug: {
    type: "boolean",
    description: "print the client's connection events on stderr (endpoints failing, failovers)",
  },
  hex: { type: "boolean", description: "print keys and values as \\x hex escapes (simple output)" },
  help: { type: "boolean", short: "h", description: "show help" },
} as const satisfies Record<string, FlagSpec>;
