// TGM_ERR_* codes of target-match. None is retriable: the record itself is unusable (an event
// goes to li.<t>.dlq, a warrant or tenant record is skipped and logged by code).
import { defineErrors } from '@li/core';

export const TGM_ERRORS = defineErrors('TGM', {
  TGM_ERR_BAD_EVENT: { retriable: false, message: 'event is not a valid NormalizedEvent' },
  TGM_ERR_TENANT_MISMATCH: { retriable: false, message: 'record names another tenant than its topic' },
  TGM_ERR_BAD_WARRANT: { retriable: false, message: 'warrant record is not keyed by its own warrant' },
  TGM_ERR_BAD_TENANT: {
    retriable: false,
    message: 'tenant record is not keyed by its id or has no valid numbering plan',
  },
});

export type TgmErrorCode = (typeof TGM_ERRORS.codes)[number];
