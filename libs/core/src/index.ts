export { type Clock, ManualClock, systemClock } from './clock.ts';
export { CodedError, defineErrors, type ErrorCodes, type ErrorSpec, type ErrorTable, unreachable } from './errors.ts';
