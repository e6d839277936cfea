#!/usr/bin/env bash
# Writes the Strimzi CRDs (Kafka, KafkaNodePool, KafkaTopic, KafkaUser) into .run/k8s-crds/
# with Strimzi's CRD generator from Maven Central (once per machine; Maven's cache after that),
# so the manifest tests validate offline. .ci/run calls it before the tests.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="$root/.run/k8s-crds"
version="$(sed -n 's:.*<strimzi.version>\(.*\)</strimzi.version>.*:\1:p' "$here/pom.xml")"
if [ -f "$out/$version/kafkausers.yaml" ]; then exit 0; fi
command -v mvn >/dev/null || { echo "fetch.sh: Maven (mvn) is required" >&2; exit 1; }
command -v java >/dev/null || { echo "fetch.sh: Java is required" >&2; exit 1; }
mkdir -p "$out/$version.tmp"
mvn -q -f "$here/pom.xml" dependency:build-classpath -Dmdep.outputFile="$out/$version.tmp/classpath.txt" >&2
m=io.strimzi.api.kafka.model
java -cp "$(cat "$out/$version.tmp/classpath.txt")" io.strimzi.crdgenerator.CrdGenerator --yaml --crd-api-version v1 \
  "$m.kafka.Kafka=$out/$version.tmp/kafkas.yaml" \
  "$m.nodepool.KafkaNodePool=$out/$version.tmp/kafkanodepools.yaml" \
  "$m.topic.KafkaTopic=$out/$version.tmp/kafkatopics.yaml" \
  "$m.user.KafkaUser=$out/$version.tmp/kafkausers.yaml" 2>/dev/null
rm -rf "${out:?}/$version" && mv "$out/$version.tmp" "$out/$version"
echo "Strimzi $version CRDs in $out/$version"
