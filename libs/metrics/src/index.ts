export type { Check, ProbeServer, ProbeServerOptions } from './probe-server.ts';
export { createRegistry, startProbeServer } from './probe-server.ts';
