export type { ConfigProblem, LoadConfigOptions } from './load-config.ts';
export { ConfigError, envNameFor, loadConfig } from './load-config.ts';
