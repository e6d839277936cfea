export type { ReportErrorCode, ReportOptions, ReportResult, ReportType } from './compose.ts';
export { composeReport, REPORT_ERRORS, REPORT_TYPES, reportTypeOf } from './compose.ts';
