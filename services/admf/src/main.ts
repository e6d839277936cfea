// admf: wiring only; the service is in service.ts.
import { runService } from '@li/runtime';
import { admfService } from './service.ts';

await runService(admfService);
