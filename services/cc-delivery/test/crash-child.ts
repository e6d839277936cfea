// A child process for keepalive-confirm.int.test.ts: the cc-delivery service as main.ts runs it,
// configured from the LI_* environment the parent passes, telling the parent once it is up.
// The parent SIGKILLs it and starts a new one.
import { startService } from '@li/runtime';
import { ccDeliveryService } from '../src/service.ts';

await startService(ccDeliveryService, process.env);
process.send?.('started');
