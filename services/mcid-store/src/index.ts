// Public surface for main.ts (wiring) and other packages.

export { AcrFileStore, statfsDiskUsage } from './adapters/acr-files.ts';
export { CdsSink, domainConfigOf, LocalStorageSink, sinkFromConfig } from './adapters/reporters.ts';
export { type AppDeps, buildApp } from './app.ts';
export { type ConfigResult, ConfigSchema, type McidConfig, parseConfig } from './config.ts';
export {
  type ApplyResult,
  apply,
  DEFAULT_DOMAIN_CONFIG,
  type DomainConfig,
  type Note,
  tick,
} from './domain/engine.ts';
export { MemoryState } from './domain/memory-state.ts';
export type { Change, McidReport, StateValue, StateView } from './domain/model.ts';
export { keys } from './domain/model.ts';
export { ERRORS, type McdErrorCode } from './errors.ts';
export {
  type Clock,
  type DeliveryResult,
  type Log,
  MemoryStateStore,
  type ReportSink,
  type StateStore,
  silentLog,
  systemClock,
} from './ports.ts';
export { McidService } from './service.ts';
