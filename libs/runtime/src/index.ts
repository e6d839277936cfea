export type { RunningService, ServiceContext, ServiceDefinition } from './run-service.ts';
export { CommonConfig, runService, startService } from './run-service.ts';
