// mcid-store: wiring only; the service is in kafka-service.ts.
import { runService } from '@li/runtime';
import { mcidStoreService } from './kafka-service.ts';

await runService(mcidStoreService);
