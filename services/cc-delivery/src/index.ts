export type { App, AppConfig, AppLog, AppPorts } from './app.ts';
export { buildApp } from './app.ts';
export type { LemfStatus } from './domain/delivery.ts';
export type { CommitPoint } from './domain/offsets.ts';
export type { DeliveryRecord, IncomingPdu, KeepaliveCodec, SourcePosition, Stream } from './domain/types.ts';
export type { DeliveryError, DlvErrorCode } from './errors.ts';
export { DLV_ERRORS } from './errors.ts';
