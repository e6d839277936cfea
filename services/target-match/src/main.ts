// target-match: wiring only; the service is in service.ts.
import { runService } from '@li/runtime';
import { targetMatchService } from './service.ts';

await runService(targetMatchService);
