// kafkajs 2.2.4 schedules its pending-request check with `throttledUntil - Date.now()`
// (node_modules/kafkajs/src/network/requestQueue/index.js:312-320, scheduleCheckPendingRequests).
// When nothing is throttled `throttledUntil` is -1, so after every broker response it calls
// setTimeout with about -Date.now(): Node prints TimeoutNegativeWarning, clamps the delay to 1 ms,
// and the queue then re-checks its empty queue every millisecond for as long as the connection
// lives. No client option avoids it and upstream has no release with a fix
// (https://github.com/tulios/kafkajs/issues/1751, #1704; fix PRs #1755, #1768 open). This replaces
// that one method with the same logic, except that an empty, unthrottled queue schedules nothing:
// the next push() or response checks the queue again.
import { createRequire } from 'node:module';

/** The fields of kafkajs's RequestQueue that its scheduleCheckPendingRequests uses. */
export interface KafkaRequestQueue {
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  pending: unknown[];
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL (not exported): re-check of a non-empty queue. */
const CHECK_PENDING_MS = 10;

function scheduleCheckPendingRequests(this: KafkaRequestQueue): void {
  if (this.throttleCheckTimeoutId) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  let delay: number;
  if (this.pending.length > 0) delay = untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_MS;
  else if (untilUnthrottled > 0) delay = untilUnthrottled;
  else return;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delay);
}

/** kafkajs's RequestQueue class, with the method above installed (once per process). */
export const KafkaRequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as {
  new (options: { logger: unknown; maxInFlightRequests?: number | null; requestTimeout?: number }): KafkaRequestQueue;
  prototype: KafkaRequestQueue;
};
KafkaRequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
