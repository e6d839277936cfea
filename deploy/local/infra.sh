#!/usr/bin/env bash
# Local single-node Kafka (KRaft) and Apicurio schema registry for development and tests.
#   infra.sh fetch   download both from Maven Central into the cache (once per machine)
#   infra.sh start   start both in the background, do not wait
#   infra.sh wait    wait until both answer a protocol round trip
#   infra.sh up      fetch + start + wait (idempotent: a running, ready pair is left alone)
#   infra.sh down    stop the processes this script started, and nothing else
#   infra.sh status  what runs, and whether it answers
#   infra.sh ready   exit 0 if both answer now
#   infra.sh kafka-kill    SIGKILL Kafka alone, keeping its data (outage tests)
#   infra.sh kafka-stop    stop Kafka cleanly (SIGTERM: controlled shutdown), keeping its data
#   infra.sh kafka-resume  start Kafka again on that data (after kafka-kill or kafka-stop)
#   infra.sh registry-kill    SIGKILL the schema registry alone, keeping its H2 file (outage tests)
#   infra.sh registry-resume  start the registry again on that file (same schema ids)
#   infra.sh user add|remove NAME   create (or delete) a SCRAM-SHA-512 principal on the running broker
#
# Kafka listens with SASL_SSL only (SCRAM-SHA-512 over TLS) and authorises every request by ACL.
# At first start the script makes a CA, the broker's certificate ($RUN/tls) and a password per
# principal ($RUN/credentials/<name>.password): the bootstrap admin (the only super user) and one
# principal per service of the local deployment. ACLs come from scripts/kafka-access.ts.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RUN="${LI_INFRA_RUN:-$ROOT/.run/infra}"
CACHE="${LI_INFRA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/li-infra}"
KAFKA_VERSION=3.9.1
APICURIO_VERSION=3.3.3
KAFKA_PORT="${LI_KAFKA_PORT:-9092}"
CONTROLLER_PORT="${LI_KAFKA_CONTROLLER_PORT:-9093}"
INTERNAL_PORT="${LI_KAFKA_INTERNAL_PORT:-9094}"
REGISTRY_PORT="${LI_REGISTRY_PORT:-8081}"
KAFKA_LIB="$CACHE/kafka-$KAFKA_VERSION/lib"
APICURIO_DIR="$CACHE/apicurio-$APICURIO_VERSION"
READY_TIMEOUT_S="${LI_INFRA_READY_TIMEOUT_S:-120}"

TLS="$RUN/tls"
CREDS="$RUN/credentials"
ADMIN_USER=admin
# One principal per service deployment of `npm start` (and of the tests, which grant them per tenant).
LOCAL_PRINCIPALS=(li-admf li-ingest li-target-match li-iri-encoder li-cc-delivery li-mcid-store)

log() { printf '[infra] %s\n' "$*" >&2; }

node_bin() {
  # Prefer the pinned Node 26 from node_modules; the probe needs kafkajs from there anyway.
  if [ -x "$ROOT/node_modules/.bin/node" ]; then echo "$ROOT/node_modules/.bin/node"; else echo node; fi
}

# Apicurio 3.3 is built for Java 21+; Debian 12's default is 17, so look for a newer JDK.
registry_java() {
  if [ -n "${LI_REGISTRY_JAVA:-}" ]; then echo "$LI_REGISTRY_JAVA"; return; fi
  local j v
  for j in "${JAVA_HOME:-/nonexistent}/bin/java" /usr/lib/jvm/*/bin/java "$(command -v java || true)"; do
    [ -x "$j" ] || continue
    v="$("$j" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}')"
    if [ "${v%%.*}" -ge 21 ] 2>/dev/null; then echo "$j"; return; fi
  done
  log "no Java 21 or newer found (Apicurio $APICURIO_VERSION needs it); set LI_REGISTRY_JAVA=/path/to/java"
  return 1
}

fetch() {
  command -v mvn >/dev/null || { log "Maven (mvn) is required to fetch Kafka and Apicurio"; return 1; }
  if [ ! -f "$KAFKA_LIB/.complete" ]; then
    log "fetching Kafka $KAFKA_VERSION from Maven Central"
    rm -rf "$KAFKA_LIB"
    (cd "$HERE" && mvn -B -q dependency:copy-dependencies -Dkafka.version="$KAFKA_VERSION" \
      -DoutputDirectory="$KAFKA_LIB" -DincludeScope=runtime)
    touch "$KAFKA_LIB/.complete"
  fi
  if [ ! -f "$APICURIO_DIR/.complete" ]; then
    log "fetching Apicurio Registry $APICURIO_VERSION from Maven Central"
    rm -rf "$APICURIO_DIR"
    (cd "$HERE" && mvn -B -q dependency:unpack \
      -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" -DoutputDirectory="$APICURIO_DIR" -DmarkersDirectory="$APICURIO_DIR/.markers")
    touch "$APICURIO_DIR/.complete"
  fi
}

# The CA and the broker's certificate, made once; the broker's key is PKCS#8 PEM, as Kafka reads it.
make_tls() {
  [ -f "$TLS/broker-keystore.pem" ] && return
  command -v openssl >/dev/null || { log "openssl is required to make the local CA"; return 1; }
  local tmp; tmp="$(mktemp -d)"
  (
    set -e; cd "$tmp"; umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=li-local-ca" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
      -keyout ca.key -out ca.pem 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=li-kafka-broker" \
      -keyout broker.key -out broker.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' > ext.cnf
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -extfile ext.cnf \
      -out broker.crt 2>/dev/null
    openssl pkcs8 -topk8 -nocrypt -in broker.key -out broker.p8
    cat broker.p8 broker.crt > broker-keystore.pem
  ) || { rm -rf "$tmp"; log "could not make the local CA"; return 1; }
  mkdir -p "$TLS"; chmod 700 "$TLS"
  cp "$tmp/ca.pem" "$tmp/ca.key" "$tmp/broker-keystore.pem" "$TLS/"
  chmod 600 "$TLS/ca.key" "$TLS/broker-keystore.pem"
  rm -rf "$tmp"
  log "made the local CA and broker certificate in $TLS"
}

# A random password per principal, kept across restarts (the broker's data is not).
make_password() {
  local f="$CREDS/$1.password"
  [ -s "$f" ] && return
  mkdir -p "$CREDS"; chmod 700 "$CREDS"
  (umask 077; head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' > "$f")
}

make_credentials() {
  local p
  make_password "$ADMIN_USER"
  for p in "${LOCAL_PRINCIPALS[@]}"; do make_password "$p"; done
  # Kafka's own tools (ConfigCommand) connect as the admin with this file.
  (umask 077; cat > "$CREDS/admin.properties" <<PROPS
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$ADMIN_USER" password="$(cat "$CREDS/$ADMIN_USER.password")";
ssl.truststore.type=PEM
ssl.truststore.location=$TLS/ca.pem
PROPS
  )
}

# SCRAM credentials of every principal with a password file, written into the new log at format.
scram_args() {
  local f name
  for f in "$CREDS"/*.password; do
    name="$(basename "$f" .password)"
    printf '%s\0%s\0' --add-scram "SCRAM-SHA-512=[name=$name,password=$(cat "$f")]"
  done
}

kafka_java() {
  java -Dlog4j.configuration="file:$HERE/log4j.properties" -cp "$KAFKA_LIB/*" "$@"
}

user() {
  local action="${1:-}" name="${2:-}"
  [[ "$name" =~ ^[a-z0-9][a-z0-9.-]{0,62}$ ]] || { log "usage: infra.sh user add|remove NAME (lower-case letters, digits, dots, hyphens)"; return 2; }
  [ "$name" != "$ADMIN_USER" ] || { log "the bootstrap admin is not managed here"; return 2; }
  local common=(kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" --command-config "$CREDS/admin.properties" --entity-type users --entity-name "$name")
  case "$action" in
    add)
      make_password "$name"
      # Kafka's tool takes the password as an argument (its --add-config-file refuses SCRAM keys):
      # acceptable for this loopback development broker only; its output, which would quote the
      # argument on failure, is not shown. Kubernetes: Strimzi's User Operator makes credentials.
      kafka_java "${common[@]}" --alter --add-config "SCRAM-SHA-512=[iterations=4096,password=$(cat "$CREDS/$name.password")]" \
        >/dev/null 2>&1 || { log "could not create principal $name (is the broker up on 127.0.0.1:$KAFKA_PORT?)"; return 1; }
      log "principal $name: password in $CREDS/$name.password"
      ;;
    remove)
      kafka_java "${common[@]}" --alter --delete-config SCRAM-SHA-512 >/dev/null 2>&1 \
        || { log "could not remove principal $name"; return 1; }
      rm -f "$CREDS/$name.password"
      log "principal $name removed"
      ;;
    *) log "usage: infra.sh user add|remove NAME"; return 2 ;;
  esac
}

alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

cluster_id() {
  # A Kafka Uuid: 16 random bytes, base64url without padding; must not start with '-'.
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    [ "${id:0:1}" != "-" ] && { echo "$id"; return; }
  done
}

start_kafka() {
  if alive kafka; then log "kafka already running (pid $(cat "$RUN/kafka.pid"))"; return; fi
  make_tls
  make_credentials
  rm -rf "$RUN/kafka"; mkdir -p "$RUN/kafka/data"
  # New Kafka data: the schemas of the old data go with it (unless a registry still runs on them).
  alive registry || rm -rf "$RUN/registry/db"
  sed -e "s#@DATA@#$RUN/kafka/data#" -e "s#@PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$CONTROLLER_PORT#g" \
    -e "s#@INTERNAL_PORT@#$INTERNAL_PORT#g" -e "s#@TLS@#$TLS#g" -e "s#@ADMIN@#$ADMIN_USER#g" \
    "$HERE/server.properties.in" > "$RUN/kafka/server.properties"
  chmod 600 "$RUN/kafka/server.properties"
  cp "$HERE/log4j.properties" "$RUN/kafka/log4j.properties"
  local cp="$KAFKA_LIB/*" logopt="-Dlog4j.configuration=file:$RUN/kafka/log4j.properties -Dkafka.logs.dir=$RUN/kafka"
  local scram=(); while IFS= read -r -d '' a; do scram+=("$a"); done < <(scram_args)
  java $logopt -cp "$cp" kafka.tools.StorageTool format -t "$(cluster_id)" \
    -c "$RUN/kafka/server.properties" "${scram[@]}" > "$RUN/kafka/format.log" 2>&1 \
    || { cat "$RUN/kafka/format.log" >&2; return 1; }
  launch_kafka
}

launch_kafka() {
  local cp="$KAFKA_LIB/*" logopt="-Dlog4j.configuration=file:$RUN/kafka/log4j.properties -Dkafka.logs.dir=$RUN/kafka"
  nohup java -Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true $logopt \
    -cp "$cp" kafka.Kafka "$RUN/kafka/server.properties" >> "$RUN/kafka/stdout.log" 2>&1 < /dev/null &
  echo $! > "$RUN/kafka.pid"
  log "kafka starting (pid $!) on 127.0.0.1:$KAFKA_PORT"
}

# Starts Kafka again on the data it had (after kafka-kill): an outage, not a new cluster.
resume_kafka() {
  if alive kafka; then log "kafka already running (pid $(cat "$RUN/kafka.pid"))"; return; fi
  [ -f "$RUN/kafka/server.properties" ] || { log "no Kafka data in $RUN to resume"; return 1; }
  launch_kafka
}

# Kills Kafka at once (SIGKILL, no clean shutdown), keeping its data: a broker crash for outage tests.
kill_kafka() {
  alive kafka || { log "kafka is not running"; return 0; }
  local pid; pid="$(cat "$RUN/kafka.pid")"
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  log "kafka killed (pid $pid); its data is kept for kafka-resume"
}

# Kills the registry at once (SIGKILL), keeping its H2 file: a registry crash for outage tests.
kill_registry() {
  alive registry || { log "registry is not running"; return 0; }
  local pid; pid="$(cat "$RUN/registry.pid")"
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  log "registry killed (pid $pid); its schemas are kept for registry-resume"
}

# Starts the registry again on the schemas it had (after registry-kill): an outage, not a new registry.
resume_registry() {
  if alive registry; then log "registry already running (pid $(cat "$RUN/registry.pid"))"; return; fi
  [ -d "$RUN/registry/db" ] || { log "no registry data in $RUN to resume"; return 1; }
  start_registry
}

start_registry() {
  if alive registry; then log "registry already running (pid $(cat "$RUN/registry.pid"))"; return; fi
  local java; java="$(registry_java)"
  mkdir -p "$RUN/registry"
  # Schemas in an H2 file beside Kafka's data: a registry restart keeps every schema id, so
  # records already in Kafka still decode. It lives as long as Kafka's data (start_kafka wipes
  # both). WRITE_DELAY=0: H2 writes each commit at once; its default (up to a second later) lost
  # the schemas registered just before a SIGKILL, and gave their ids to other schemas afterwards.
  # The management interface (health, metrics) is fixed at build time; keep it on loopback.
  nohup "$java" -Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2 \
    "-Dapicurio.datasource.url=jdbc:h2:file:$RUN/registry/db/registry;DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0" \
    -Dapicurio.datasource.username=sa -Dapicurio.datasource.password=sa \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="$((REGISTRY_PORT + 1))" \
    -Dquarkus.log.category.\"io.quarkus.http.access-log\".level=WARN \
    -Dapicurio.rules.global.compatibility=BACKWARD \
    -jar "$APICURIO_DIR/quarkus-run.jar" >> "$RUN/registry/stdout.log" 2>&1 < /dev/null &
  echo $! > "$RUN/registry.pid"
  log "registry starting (pid $!) on http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"
}

start() {
  fetch
  mkdir -p "$RUN"
  start_kafka
  start_registry
}

wait_ready() {
  local started=$SECONDS
  LI_KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" LI_INFRA_RUN="$RUN" LI_SCHEMA_REGISTRY_URL="http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7" \
    "$(node_bin)" "$HERE/ready.ts" --timeout "$READY_TIMEOUT_S" \
    --pid "$(cat "$RUN/kafka.pid" 2>/dev/null || echo 0)" --pid "$(cat "$RUN/registry.pid" 2>/dev/null || echo 0)" || {
      log "not ready after $((SECONDS - started)) s; last lines of the logs:"
      tail -n 30 "$RUN/kafka/stdout.log" "$RUN/registry/stdout.log" >&2 2>/dev/null || true
      return 1
    }
}

stop_one() {
  local name=$1 pid
  [ -f "$RUN/$name.pid" ] || return 0
  pid="$(cat "$RUN/$name.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { log "$name did not stop in 30 s; killing"; kill -KILL "$pid" 2>/dev/null || true; }
    log "$name stopped (pid $pid)"
  fi
  rm -f "$RUN/$name.pid"
}

down() {
  # The registry first: it holds no data, Kafka's shutdown takes longer.
  stop_one registry &
  stop_one kafka &
  wait
}

status() {
  local n
  for n in kafka registry; do
    if alive $n; then echo "$n: running (pid $(cat "$RUN/$n.pid"))"; else echo "$n: stopped"; fi
  done
  READY_TIMEOUT_S=3 wait_ready 2>/dev/null && echo "ready: yes" || echo "ready: no"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  wait) wait_ready ;;
  up)
    t0=$(date +%s.%N)
    start
    wait_ready
    log "ready in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
    ;;
  down) down ;;
  status) status ;;
  ready) READY_TIMEOUT_S=3 wait_ready > /dev/null 2>&1 ;;
  user) shift; user "$@" ;;
  kafka-kill) kill_kafka ;;
  kafka-stop) stop_one kafka ;;
  kafka-resume) resume_kafka ;;
  registry-kill) kill_registry ;;
  registry-resume) resume_registry ;;
  *) echo "usage: $0 fetch|start|wait|up|down|status|ready|user|kafka-kill|kafka-stop|kafka-resume|registry-kill|registry-resume" >&2; exit 2 ;;
esac
