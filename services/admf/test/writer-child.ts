// A child process for writer-failover.int.test.ts: admf as main.ts runs it, configured from the
// LI_* environment the parent passes; it tells the parent its ports once started. The parent
// SIGKILLs or SIGSTOPs it.
import { startService } from '@li/runtime';
import { admfService } from '../src/service.ts';

const svc = await startService(admfService, process.env);
process.send?.({ http: svc.ports.http, metrics: svc.metricsPort });
