/*
 * The C reference of bench/encode.ts: asn1c 0.9.28 DER encoding of the same values the
 * TypeScript encoder wrote.
 *
 *   encode-bench <seconds> <record.ber>
 *
 * The PDU struct (BENCH_PDU, set at compile time: PS_PDU or IRIsContent) is filled by
 * ber_decode of record.ber, the TypeScript side's record, so both sides encode the same values;
 * then der_encode_to_buffer runs for about <seconds>. Prints one JSON line: whether the record
 * decoded, the DER length and bytes (hex), and records/s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asn_application.h"

#define CAT(a, b) a##b
#define XCAT(a, b) CAT(a, b)
#define PDU_DEF XCAT(asn_DEF_, BENCH_PDU)
extern asn_TYPE_descriptor_t PDU_DEF;

static double now_seconds(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned char in[1 << 16];
static unsigned char out[1 << 16];

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: %s <seconds> <record.ber>\n", argv[0]);
		return 2;
	}
	double seconds = atof(argv[1]);
	FILE *f = fopen(argv[2], "rb");
	if (!f) {
		perror(argv[2]);
		return 2;
	}
	size_t len = fread(in, 1, sizeof(in), f);
	fclose(f);

	void *pdu = NULL;
	asn_dec_rval_t d = ber_decode(NULL, &PDU_DEF, &pdu, in, len);
	if (d.code != RC_OK || d.consumed != len) {
		printf("{\"decoded\":false,\"consumed\":%zu,\"length\":%zu}\n", d.consumed, len);
		return 0;
	}
	char errbuf[256];
	size_t errlen = sizeof(errbuf);
	int constraints_ok = asn_check_constraints(&PDU_DEF, pdu, errbuf, &errlen) == 0;

	asn_enc_rval_t e = der_encode_to_buffer(&PDU_DEF, pdu, out, sizeof(out));
	if (e.encoded < 0) {
		printf("{\"decoded\":true,\"encoded\":false}\n");
		return 0;
	}
	size_t outlen = (size_t)e.encoded;

	/* Warm up, then count whole rounds of 1000 encodings until the time is up. */
	for (int i = 0; i < 10000; i++) der_encode_to_buffer(&PDU_DEF, pdu, out, sizeof(out));
	unsigned long n = 0;
	double t0 = now_seconds(), t1 = t0;
	while (t1 - t0 < seconds) {
		for (int i = 0; i < 1000; i++) {
			e = der_encode_to_buffer(&PDU_DEF, pdu, out, sizeof(out));
			if (e.encoded != (ssize_t)outlen) {
				printf("{\"decoded\":true,\"encoded\":false}\n");
				return 0;
			}
		}
		n += 1000;
		t1 = now_seconds();
	}

	printf("{\"decoded\":true,\"encoded\":true,\"constraintsOk\":%s,\"length\":%zu,\"recordsPerSec\":%.0f,\"hex\":\"",
	       constraints_ok ? "true" : "false", outlen, (double)n / (t1 - t0));
	for (size_t i = 0; i < outlen; i++) printf("%02x", out[i]);
	printf("\"}\n");
	ASN_STRUCT_FREE(PDU_DEF, pdu);
	return 0;
}
