// etcd-connect/otel: OpenTelemetry spans and metrics for every client in the process, built on
// the client's diagnostics channels. Needs the optional peer dependency @opentelemetry/api (1.x).
export {
  type EtcdInstrumentation,
  type EtcdInstrumentationOptions,
  instrumentEtcd,
} from "./otel/instrument.ts";
export { traceContextPropagator } from "./otel/trace-context.ts";
