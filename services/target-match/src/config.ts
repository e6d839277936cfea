// target-match settings; each has its LI_* variable (camelCase -> LI_SNAKE_CASE) or a YAML key.
import { CommonConfig } from '@li/runtime';
import Type from 'typebox';

export const Config = Type.Object({
  ...CommonConfig.properties,
  metricsPort: Type.Integer({ minimum: 0, maximum: 65535, default: 9463 }),
  tenants: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'tenant ids this deployment serves' }),
  defaultCountryCode: Type.String({
    pattern: '^[0-9]{1,3}$',
    default: '39',
    description: 'country calling code for national numbers',
  }),
  nationalTrunkPrefix: Type.String({ pattern: '^[0-9]*$', default: '' }),
  /**
   * eventIds of the last events committed, per input partition of li.<t>.events: an event read
   * again with one of them (ingest wrote it twice) is dropped, not matched. 0 turns the check off.
   * @default 10000
   */
  eventIdWindow: Type.Integer({
    minimum: 0,
    maximum: 10_000_000,
    default: 10_000,
    description: 'eventIds remembered per events partition to drop an event written twice (0: off)',
  }),
});
