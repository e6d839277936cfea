// The iri-encoder's settings (LI_* variables, see CommonConfig for the shared ones).
import { CommonConfig } from '@li/runtime';
import Type from 'typebox';

export const Config = Type.Object({
  ...CommonConfig.properties,
  metricsPort: Type.Integer({ minimum: 0, maximum: 65535, default: 9462 }),
  tenants: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'tenant ids this deployment serves' }),
  operatorIdentifier: Type.String({ minLength: 1, maxLength: 5, description: 'networkIdentifier.operatorIdentifier' }),
  networkElementIdentifier: Type.String({ minLength: 1, maxLength: 16, default: 'mdf1' }),
  deliveryCountryCode: Type.String({ pattern: '^[A-Z]{2}$', default: 'IT' }),
  timestampFormat: Type.Union([Type.Literal('GENERALIZED_TIME'), Type.Literal('MICROSECOND'), Type.Literal('BOTH')], {
    default: 'BOTH',
  }),
  ts101671Countries: Type.Array(Type.String({ pattern: '^[A-Z]{2}$' }), { default: ['IT'] }),
  maxSegment: Type.Integer({ minimum: 256, default: 64_000 }),
  reportFrom: Type.String({
    minLength: 3,
    default: 'li-reports@mediation.invalid',
    description: 'sender of e-mail reports',
  }),
  // State kept per communication (CIN, phase, sequence counters) is deleted by tombstones on
  // li.<t>.encoder-state once the communication is over, so memory and the topic stay bounded.
  stateIdleSeconds: Type.Integer({
    minimum: 1,
    default: 3600,
    description: 'forget a communication with no event for this long (LI_STATE_IDLE_SECONDS)',
  }),
  stateEndedRetentionSeconds: Type.Integer({
    minimum: 0,
    default: 60,
    description: 'forget a communication this long after its IRI-END; later messages get a new CIN',
  }),
});
