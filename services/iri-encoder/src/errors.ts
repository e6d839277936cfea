// Every ENC_ERR_* code of the iri-encoder. A failed event goes to the DLQ with its code and a
// reason; none is retriable: the same input fails the same way.
import { defineErrors } from '@li/core';

export const encErrors = defineErrors('ENC', {
  ENC_ERR_MISSING_CONTENT: { message: 'event without the content its record carries', retriable: false },
  ENC_ERR_MISSING_NETWORK: { message: 'event without the IP addresses its record carries', retriable: false },
  ENC_ERR_INVALID_VALUE: { message: 'a value the ETSI encoding cannot carry', retriable: false },
  ENC_ERR_TENANT_MISMATCH: { message: 'record names another tenant than its topic', retriable: false },
  ENC_ERR_INTERNAL: { message: 'encoder bug while encoding the event', retriable: false },
  ENC_ERR_PARTLY_ENCODED: { message: 'some IRI or CC of the event has no record format', retriable: false },
  ENC_ERR_NO_REPORT_FORMAT: {
    message: 'seed 000 defines no e-mail report for this event category',
    retriable: false,
  },
  ENC_ERR_REPORT_ADDRESS: { message: 'report From/To address missing or unsafe', retriable: false },
});

export type EncErrorCode = (typeof encErrors.codes)[number];
