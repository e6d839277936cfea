// Child process of measureBusReference({ client: 'kafkajs' }): the reference on kafkajs as
// shipped, in a process that never loads @li/bus. Reads { security, options } as JSON on stdin
// (the SASL password stays off the command line and the environment), prints the result as JSON.
import { text } from 'node:stream/consumers';
import { runReference } from './reference-run.ts';

const { security, options } = JSON.parse(await text(process.stdin));
console.log(JSON.stringify(await runReference(security, options)));
process.exit(0);
