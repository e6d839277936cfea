// cc-delivery: wiring only; the service is in service.ts.
import { runService } from '@li/runtime';
import { ccDeliveryService } from './service.ts';

await runService(ccDeliveryService);
