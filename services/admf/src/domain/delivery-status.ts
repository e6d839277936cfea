// The live status of a tenant's LEMFs as cc-delivery itself reports it in its Prometheus
// metrics (labels tenant, lemf, transport, stream; never a LIID): read, not re-computed.

/** One sample of the Prometheus text format: metric name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/g;

/** Parses the text exposition format; comments and lines it cannot read are skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) {
      labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

export interface LemfLiveStatus {
  lemfId: string;
  /** false: no delivery instance reported this LEMF (not started yet, or its metrics unreachable). */
  reported: boolean;
  transport: string | null;
  connected: boolean | null;
  /** Records the LEMF transport confirmed, every stream, since the delivery instance started. */
  recordsSent: number;
  pending: number;
  /** Records of li.<t>.hi2/hi3/reports the LEMF's consumer group has not committed. */
  lagRecords: number | null;
  lastErrorCode: string | null;
  /** ms since the epoch */
  lastErrorAt: number | null;
}

/**
 * Folds the samples of every delivery instance into one status per LEMF of the tenant. Counters
 * add up across instances; `connected` is true only when every instance reporting it says so.
 */
export function lemfStatuses(tenant: string, lemfIds: readonly string[], samples: readonly Sample[]): LemfLiveStatus[] {
  const by = new Map<string, LemfLiveStatus>();
  for (const id of lemfIds) {
    by.set(id, {
      lemfId: id,
      reported: false,
      transport: null,
      connected: null,
      recordsSent: 0,
      pending: 0,
      lagRecords: null,
      lastErrorCode: null,
      lastErrorAt: null,
    });
  }
  const errorAt = new Map<string, number>();
  for (const s of samples) {
    if (s.labels.tenant !== tenant) continue;
    const st = by.get(s.labels.lemf ?? '');
    if (!st) continue;
    if (s.labels.transport) st.transport = s.labels.transport;
    switch (s.name) {
      case 'li_cc_delivery_connected_bool':
        st.reported = true;
        st.connected = (st.connected ?? true) && s.value === 1;
        break;
      case 'li_cc_delivery_sent_records_total':
        st.recordsSent += s.value;
        break;
      case 'li_cc_delivery_pending_records':
        st.pending += s.value;
        break;
      case 'li_cc_delivery_consumer_lag_records':
        st.lagRecords = (st.lagRecords ?? 0) + s.value;
        break;
      case 'li_cc_delivery_last_error_timestamp_seconds': {
        const at = Math.round(s.value * 1000);
        if (st.lastErrorAt === null || at > st.lastErrorAt) st.lastErrorAt = at;
        break;
      }
      case 'li_cc_delivery_last_error_info':
        // The code of the instance with the latest error wins (timestamps come in the same scrape).
        if (s.labels.code && (errorAt.get(st.lemfId) ?? -1) <= (st.lastErrorAt ?? 0)) {
          st.lastErrorCode = s.labels.code;
          errorAt.set(st.lemfId, st.lastErrorAt ?? 0);
        }
        break;
    }
  }
  return [...by.values()];
}
