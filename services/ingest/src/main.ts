// ingest process entry; the service (wiring) is in service.ts.
import { runService } from '@li/runtime';
import { ingestService } from './service.ts';

await runService(ingestService);
