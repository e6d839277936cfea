export { loadTariffs } from './adapters/config-files.ts';
export { InMemoryWarrantStore } from './adapters/memory-store.ts';
export type { StoreRecord } from './adapters/publishing-store.ts';
export { PublishingWarrantStore, recordsOf } from './adapters/publishing-store.ts';
export type { AdmfApp, AdmfDeps } from './app.ts';
export { buildApp } from './app.ts';
export type { Logger } from './application.ts';
export { AdmfService } from './application.ts';
export type { TokenTable } from './auth.ts';
export type { ChainVerdict } from './domain/audit.ts';
export { canonicalJson, chainAudit, verifyAuditChain } from './domain/audit.ts';
export type { BillingReport, TariffTable } from './domain/billing.ts';
export { parseTariffs } from './domain/billing.ts';
export type {
  AuditRecord,
  Caller,
  Clock,
  Role,
  StoreChanges,
  Tenant,
  WarrantStore,
} from './domain/model.ts';
export type { AdmError, AdmErrorCode, Result } from './errors.ts';
export { ADM_ERRORS } from './errors.ts';
