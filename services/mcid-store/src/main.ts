import { runService } from '@li/runtime';
import { mcidStoreService } from './service.ts';

await runService(mcidStoreService);
