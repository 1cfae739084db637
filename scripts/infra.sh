#!/usr/bin/env bash
# Real servers for the cluster and the tests, on loopback, without Docker:
# NATS with JetStream, Redis and RabbitMQ (Debian packages), the MongoDB
# stand-in (mongo-java-server on an H2 file, built with Maven from infra/mongo),
# Prometheus (Debian package) scraping the nodes listed in its targets folder,
# and Jaeger v2 (built with Go from its module, configured by deploy/jaeger/config.yaml).
# Data and logs live in .infra/ (git-ignored). It never adopts a server it did not
# start: a port already in use is an error (pick others with INFRA_*_PORT).
#
#   scripts/infra.sh up            install what is missing, start them all, print the env
#   scripts/infra.sh down          stop them
#   scripts/infra.sh env           print the env that points the app at them
#   scripts/infra.sh status        which are running
#   scripts/infra.sh start|stop NAME   one of nats, redis, mongo, rabbitmq, prometheus, jaeger (fault tests use this), or nats1..nats3
#   scripts/infra.sh nats-cluster [down]   a 3-server NATS cluster with JetStream beside the single server
#                                  (client ports 4231-4233), print its TRANSPORTER; down stops it
#   scripts/infra.sh python        make the Python environment of polyglot/python, print its python
#   scripts/infra.sh kubeconform [ARGS]   build kubeconform and unpack the Kubernetes schemas (cached);
#                                  with ARGS run it against them (e.g. -strict deploy/k8s/api.yaml), else print its path
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${INFRA_DIR:-$ROOT/.infra}"
HOST=127.0.0.1
NATS_PORT="${INFRA_NATS_PORT:-4222}"
REDIS_PORT="${INFRA_REDIS_PORT:-6379}"
MONGO_PORT="${INFRA_MONGO_PORT:-27017}"
RABBITMQ_PORT="${INFRA_RABBITMQ_PORT:-5672}"
# The Debian package's scripts proper: /usr/sbin/rabbitmq-server would switch to the rabbitmq user and /var/lib/rabbitmq.
RABBITMQ_BIN=/usr/lib/rabbitmq/bin
# Its own Erlang node name per port, so servers of several checkouts can run side by side.
RABBITMQ_NODE="infra-$RABBITMQ_PORT@localhost"
PROMETHEUS_PORT="${INFRA_PROMETHEUS_PORT:-9090}"
# Nodes to scrape: one JSON file per cluster (deploy/prometheus/local.yml says the shape).
PROMETHEUS_TARGETS="$STATE/prometheus/targets"
# Jaeger's query API (HTTP and gRPC) and the receivers the nodes send spans to.
JAEGER_QUERY_PORT="${INFRA_JAEGER_QUERY_PORT:-16686}"
JAEGER_QUERY_GRPC_PORT="${INFRA_JAEGER_QUERY_GRPC_PORT:-16685}"
JAEGER_ZIPKIN_PORT="${INFRA_JAEGER_ZIPKIN_PORT:-9411}"
JAEGER_OTLP_GRPC_PORT="${INFRA_JAEGER_OTLP_GRPC_PORT:-4317}"
JAEGER_OTLP_HTTP_PORT="${INFRA_JAEGER_OTLP_HTTP_PORT:-4318}"
JAEGER="$STATE/bin/jaeger"
# The Go module's tag of the Jaeger v2 binary: v1.76.0 is Jaeger 2.13.0
# (the jaegertracing/jaeger:2.13.0 image of docker-compose.yml).
JAEGER_MODULE_VERSION=v1.76.0
JAEGER_RELEASE=v2.13.0
# In start order; 'down' stops them in reverse.
SERVERS="nats redis mongo rabbitmq prometheus jaeger"
# The cluster's servers nats1..nats3 listen for clients on this port and the
# next two, for each other (routes) 2000 above, for monitoring 4000 above.
NATS_CLUSTER_PORT="${INFRA_NATS_CLUSTER_PORT:-4231}"
NATS_CLUSTER_SIZE=3
STORE_BUILD="$STATE/mongo-store"
# How often the store commits to its file (MongoDB's journal: 100 ms).
STORE_COMMIT_MS="${INFRA_MONGO_COMMIT_MS:-100}"
KUBECONFORM="$STATE/bin/kubeconform"
KUBECONFORM_VERSION=v0.6.7
# The Kubernetes JSON schemas come from this PyPI wheel (GitHub, their usual home, is not reachable).
KUBERNETES_VALIDATE_VERSION=1.37.0
K8S_VERSION="${INFRA_K8S_VERSION:-1.33.0}"

say() { printf 'infra: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

port_of() {
	case "$1" in
	nats) echo "$NATS_PORT" ;;
	redis) echo "$REDIS_PORT" ;;
	mongo) echo "$MONGO_PORT" ;;
	rabbitmq) echo "$RABBITMQ_PORT" ;;
	prometheus) echo "$PROMETHEUS_PORT" ;;
	jaeger) echo "$JAEGER_QUERY_PORT" ;;
	nats[1-3]) echo $((NATS_CLUSTER_PORT + ${1#nats} - 1)) ;;
	*) die "unknown server '$1' ($SERVERS, nats1..nats3)" ;;
	esac
}

port_variable() {
	case "$1" in
	nats[1-3]) echo INFRA_NATS_CLUSTER_PORT ;;
	*) echo "INFRA_$(echo "$1" | tr a-z A-Z)_PORT" ;;
	esac
}

# Every port a server opens, as VARIABLE:port (Jaeger opens five, each with its INFRA_JAEGER_* variable).
ports_of() {
	case "$1" in
	jaeger)
		echo "INFRA_JAEGER_QUERY_PORT:$JAEGER_QUERY_PORT INFRA_JAEGER_QUERY_GRPC_PORT:$JAEGER_QUERY_GRPC_PORT INFRA_JAEGER_ZIPKIN_PORT:$JAEGER_ZIPKIN_PORT" \
			"INFRA_JAEGER_OTLP_GRPC_PORT:$JAEGER_OTLP_GRPC_PORT INFRA_JAEGER_OTLP_HTTP_PORT:$JAEGER_OTLP_HTTP_PORT"
		;;
	*) echo "$(port_variable "$1"):$(port_of "$1")" ;;
	esac
}

listening() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

wait_for_port() {
	local name=$1 port=$2
	for _ in $(seq 1 150); do
		listening "$port" && return 0
		sleep 0.2
	done
	say "$name did not open $HOST:$port within 30 s; its log:"
	tail -n 20 "$STATE/log/$name.log" >&2 || true
	exit 1
}

apt_install() {
	local package=$1
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing $package (apt-get)"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
	else
		die "$package is missing. Install it (Debian: sudo apt-get install $package), or run the servers with 'docker compose up -d nats redis mongo'."
	fi
}

ensure_installed() {
	command -v nats-server >/dev/null || apt_install nats-server
	command -v redis-server >/dev/null || apt_install redis-server
	command -v prometheus >/dev/null || apt_install prometheus
	[ -x "$RABBITMQ_BIN/rabbitmq-server" ] || apt_install rabbitmq-server
	ensure_store
	ensure_jaeger
}

# The MongoDB stand-in, rebuilt when its sources change.
ensure_store() {
	local src="$ROOT/infra/mongo" stamp="$STORE_BUILD/.built"
	if [ -f "$stamp" ] && [ -z "$(find "$src" -newer "$stamp" -type f -print -quit)" ]; then return; fi
	command -v javac >/dev/null || apt_install openjdk-17-jdk-headless
	command -v mvn >/dev/null || apt_install maven
	say "building the MongoDB stand-in (infra/mongo, Maven; first time only)"
	mvn -q -B -f "$src/pom.xml" -Dstore.out="$STORE_BUILD" package || die "building infra/mongo failed"
	touch "$stamp"
}

# A virtualenv for the Python nodes (polyglot/python) and the API fuzzing
# (test/fuzz), refreshed when either's requirements change.
ensure_python() {
	local venv="$STATE/venv" requirements
	local -a files=("$ROOT/polyglot/python/requirements.txt" "$ROOT/test/fuzz/requirements.txt")
	local stale=false
	for requirements in "${files[@]}"; do [ "$venv/.installed" -nt "$requirements" ] || stale=true; done
	if [ -x "$venv/bin/python" ] && [ "$stale" = false ]; then return; fi
	command -v python3 >/dev/null || die "Python 3.11 is needed for the Python nodes (polyglot/python)."
	say "preparing the Python environment (.infra/venv)"
	python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
	"$venv/bin/pip" install --quiet --disable-pip-version-check "${files[@]/#/--requirement=}" || die "pip install failed"
	touch "$venv/.installed"
}

# kubeconform, built with Go from the module proxy, and the Kubernetes schemas
# of the kubernetes-validate wheel, rewritten so that kubeconform resolves
# their shared definitions from the file beside them instead of kubernetes.io.
ensure_kubeconform() {
	local stamp="$STATE/bin/.kubeconform-$KUBECONFORM_VERSION"
	if [ ! -x "$KUBECONFORM" ] || [ ! -f "$stamp" ]; then
		command -v go >/dev/null || die "Go (>= 1.21) is needed to build kubeconform."
		say "building kubeconform $KUBECONFORM_VERSION (first time only)"
		mkdir -p "$STATE/bin"
		GOBIN="$STATE/bin" go install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" || die "kubeconform build failed"
		touch "$stamp"
	fi
	local schemas="$STATE/k8s-schemas/$KUBERNETES_VALIDATE_VERSION" wheels
	[ -f "$schemas/.v$K8S_VERSION" ] && return
	ensure_python
	say "unpacking the Kubernetes $K8S_VERSION schemas of kubernetes-validate $KUBERNETES_VALIDATE_VERSION (PyPI)"
	wheels=$(mktemp -d)
	"$STATE/venv/bin/pip" download --quiet --disable-pip-version-check --no-deps --dest "$wheels" \
		"kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" || die "pip download kubernetes-validate failed"
	"$STATE/venv/bin/python" - "$wheels"/*.whl "$schemas" "v$K8S_VERSION" <<'EOF' || die "unpacking the schemas failed"
import json, os, sys, zipfile
wheel, out, version = sys.argv[1:]
def relocate(node):  # "/api/_definitions.json#/$defs/X" -> "_definitions.json#/$defs/X"
    if isinstance(node, dict):
        return {k: v.replace("/api/_definitions.json", "_definitions.json") if k == "$ref" and isinstance(v, str) else relocate(v)
                for k, v in node.items()}
    return [relocate(v) for v in node] if isinstance(node, list) else node
with zipfile.ZipFile(wheel) as z:
    for flavour in ("-local", "-local-strict"):
        prefix = f"kubernetes_validate/kubernetes-json-schema/{version}{flavour}/"
        names = [n for n in z.namelist() if n.startswith(prefix) and n.endswith(".json")]
        if not names: sys.exit(f"no {version}{flavour} schemas in {wheel}")
        os.makedirs(os.path.join(out, version + flavour), exist_ok=True)
        for name in names:
            with open(os.path.join(out, version + flavour, name[len(prefix):]), "w") as f:
                schema = relocate(json.loads(z.read(name)))
                schema.pop("$id", None)  # its https://kubernetes.io/... base would send the $refs there
                json.dump(schema, f)
EOF
	rm -rf "$wheels"
	touch "$schemas/.v$K8S_VERSION"
}

# Jaeger v2, built inside its module (the module's replace directives make
# `go install module@version` refuse it). The module ships no built web UI, so
# this binary serves the query API and a placeholder page; the image has the UI.
ensure_jaeger() {
	local stamp="$STATE/bin/.jaeger-$JAEGER_MODULE_VERSION" module
	if [ -x "$JAEGER" ] && [ -f "$stamp" ]; then return; fi
	command -v go >/dev/null || die "Go (>= 1.24) is needed to build Jaeger."
	say "building Jaeger $JAEGER_RELEASE (Go module $JAEGER_MODULE_VERSION; first time only, a few minutes)"
	mkdir -p "$STATE/bin"
	module=$(cd "$STATE" && GOWORK=off go mod download -json "github.com/jaegertracing/jaeger@$JAEGER_MODULE_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$module" ] || die "go mod download github.com/jaegertracing/jaeger@$JAEGER_MODULE_VERSION failed"
	(cd "$module" && GOWORK=off go build -o "$JAEGER" \
		-ldflags "-X github.com/jaegertracing/jaeger/internal/version.latestVersion=$JAEGER_RELEASE" ./cmd/jaeger) || die "building Jaeger failed"
	touch "$stamp"
}

# RabbitMQ's environment, for the server and rabbitmqctl alike (call it in a
# subshell: it sets HOME). Everything lives under .infra/rabbitmq, nothing comes
# from /etc/rabbitmq or /var/lib/rabbitmq, no plugin is enabled (the management
# plugin would want ports of its own), and the Erlang distribution and the epmd
# it starts listen on loopback only (epmd, Erlang's name server, outlives the
# node: other Erlang nodes may be registered with it). HOME holds the Erlang
# cookie rabbitmqctl needs to talk to the node.
rabbitmq_env() {
	local dir="$STATE/rabbitmq"
	mkdir -p "$dir"
	[ -f "$dir/enabled_plugins" ] || echo "[]." >"$dir/enabled_plugins"
	export HOME="$dir" RABBITMQ_NODENAME="$RABBITMQ_NODE" RABBITMQ_NODE_IP_ADDRESS="$HOST" RABBITMQ_NODE_PORT="$RABBITMQ_PORT" \
		RABBITMQ_DIST_PORT=$((RABBITMQ_PORT + 20000)) RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_LOGS=- \
		RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf" RABBITMQ_CONFIG_FILE="$dir/rabbitmq" RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config" \
		RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" ERL_EPMD_ADDRESS="$HOST" \
		RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {${HOST//./,}}"
}

# RabbitMQ opens its port before it has loaded its queues and users: ready is
# when rabbitmqctl says the node has finished booting.
wait_for_rabbitmq() {
	local pid=$1
	for _ in $(seq 1 30); do
		kill -0 "$pid" 2>/dev/null || break
		(rabbitmq_env && "$RABBITMQ_BIN/rabbitmqctl" -q -n "$RABBITMQ_NODE" await_startup --timeout 5) >/dev/null 2>&1 && return 0
		sleep 1
	done
	say "rabbitmq did not finish booting on $HOST:$RABBITMQ_PORT; its log:"
	tail -n 20 "$STATE/log/rabbitmq.log" >&2 || true
	exit 1
}

start_one() {
	local name=$1 port pid_file
	port=$(port_of "$name")
	pid_file="$STATE/run/$name.pid"
	mkdir -p "$STATE/run" "$STATE/log" "$STATE/$name"
	if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then return; fi
	# A server this script did not start would not stop with 'stop' (fault tests rely on it).
	local entry
	for entry in $(ports_of "$name"); do
		listening "${entry#*:}" && die "$HOST:${entry#*:} ($name) is already in use by a process this script did not start; stop it, or choose another port with ${entry%%:*}"
	done
	case "$name" in
	nats) nohup nats-server -a "$HOST" -p "$port" -js -sd "$STATE/nats" >"$STATE/log/nats.log" 2>&1 & ;;
	redis) nohup redis-server --bind "$HOST" --port "$port" --dir "$STATE/redis" --save "" --appendonly no >"$STATE/log/redis.log" 2>&1 & ;;
	nats[1-3])
		write_cluster_config "${name#nats}"
		nohup nats-server -c "$STATE/$name/nats-server.conf" >"$STATE/log/$name.log" 2>&1 &
		;;
	prometheus)
		# Its config and rules from deploy/prometheus, copied so file_sd finds targets/ beside them.
		mkdir -p "$PROMETHEUS_TARGETS"
		cp "$ROOT/deploy/prometheus/local.yml" "$STATE/prometheus/prometheus.yml"
		cp "$ROOT/deploy/prometheus/alerts.yml" "$STATE/prometheus/alerts.yml"
		nohup prometheus --config.file="$STATE/prometheus/prometheus.yml" --storage.tsdb.path="$STATE/prometheus/data" \
			--storage.tsdb.retention.time=1d --web.listen-address="$HOST:$port" >"$STATE/log/prometheus.log" 2>&1 &
		;;
	mongo) nohup java -XX:+UseG1GC -XX:MaxGCPauseMillis=50 -Xms1g -Xmx3g -cp "$STORE_BUILD/mongo-store-1.jar:$STORE_BUILD/lib/*" shop.store.StoreServer \
		"$HOST" "$port" "$STATE/mongo/shop.mv" "$STORE_COMMIT_MS" >"$STATE/log/mongo.log" 2>&1 & ;;
	jaeger) JAEGER_LISTEN_HOST="$HOST" JAEGER_QUERY_PORT="$JAEGER_QUERY_PORT" JAEGER_QUERY_GRPC_PORT="$JAEGER_QUERY_GRPC_PORT" \
		JAEGER_ZIPKIN_PORT="$JAEGER_ZIPKIN_PORT" JAEGER_OTLP_GRPC_PORT="$JAEGER_OTLP_GRPC_PORT" JAEGER_OTLP_HTTP_PORT="$JAEGER_OTLP_HTTP_PORT" \
		nohup "$JAEGER" --config "$ROOT/deploy/jaeger/config.yaml" >"$STATE/log/jaeger.log" 2>&1 & ;;
	rabbitmq) (rabbitmq_env && exec nohup "$RABBITMQ_BIN/rabbitmq-server") >"$STATE/log/rabbitmq.log" 2>&1 & ;;
	esac
	echo $! >"$pid_file"
	if [ "$name" = rabbitmq ]; then wait_for_rabbitmq "$!"; return; fi
	for entry in $(ports_of "$name"); do wait_for_port "$name" "${entry#*:}"; done
}

stop_one() {
	local name=$1 pid_file="$STATE/run/$1.pid" pid
	[ -f "$pid_file" ] || return 0
	pid=$(cat "$pid_file")
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		# RabbitMQ takes a few seconds to close its queues; the others are gone at once.
		for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$pid_file"
}

# Server i of the NATS cluster: its own JetStream store, routes to all three
# (a server ignores the route to itself); JetStream in a cluster needs server_name.
write_cluster_config() {
	local i=$1 j routes=()
	for j in $(seq 1 "$NATS_CLUSTER_SIZE"); do routes+=("\"nats-route://$HOST:$((NATS_CLUSTER_PORT + 2000 + j - 1))\""); done
	cat >"$STATE/nats$i/nats-server.conf" <<EOF
server_name: nats$i
listen: "$HOST:$((NATS_CLUSTER_PORT + i - 1))"
http: "$HOST:$((NATS_CLUSTER_PORT + 4000 + i - 1))"
jetstream { store_dir: "$STATE/nats$i" }
cluster {
  name: shop
  listen: "$HOST:$((NATS_CLUSTER_PORT + 2000 + i - 1))"
  routes: [$(IFS=,; echo "${routes[*]}")]
}
EOF
}

cluster_transporter() {
	local i urls=()
	for i in $(seq 1 "$NATS_CLUSTER_SIZE"); do urls+=("nats://$HOST:$(port_of "nats$i")"); done
	(IFS=,; echo "${urls[*]}")
}

print_env() {
	cat <<EOF
export TRANSPORTER=nats://$HOST:$NATS_PORT
export CACHER=redis://$HOST:$REDIS_PORT
export MONGO_URI=mongodb://$HOST:$MONGO_PORT/shop
# Prometheus: http://$HOST:$PROMETHEUS_PORT, scraping the nodes listed in $PROMETHEUS_TARGETS/*.json
# Jaeger: http://$HOST:$JAEGER_QUERY_PORT/api/traces; every node sends it spans with
export TRACING_EXPORTER=Zipkin
export TRACING_URL=http://$HOST:$JAEGER_ZIPKIN_PORT
# The cluster over RabbitMQ instead of NATS: export TRANSPORTER=amqp://guest:guest@$HOST:$RABBITMQ_PORT
EOF
}

case "${1:-}" in
up)
	ensure_installed
	ensure_python
	for name in $SERVERS; do start_one "$name"; done
	say "running; point the app at them with:"
	print_env
	;;
down) for name in nats3 nats2 nats1 $(echo "$SERVERS" | tr ' ' '\n' | tac); do stop_one "$name"; done ;;
nats-cluster)
	if [ "${2:-}" = down ]; then
		for i in $(seq 1 "$NATS_CLUSTER_SIZE"); do stop_one "nats$i"; done
		exit 0
	fi
	command -v nats-server >/dev/null || apt_install nats-server
	for i in $(seq 1 "$NATS_CLUSTER_SIZE"); do start_one "nats$i"; done
	say "a $NATS_CLUSTER_SIZE-server NATS cluster with JetStream is running; point the nodes at it with:"
	echo "export TRANSPORTER=$(cluster_transporter)"
	echo "export FACT_STREAM_REPLICAS=$NATS_CLUSTER_SIZE"
	;;
env) print_env ;;
python)
	ensure_python
	echo "$STATE/venv/bin/python"
	;;
kubeconform)
	ensure_kubeconform
	shift
	if [ $# -eq 0 ]; then echo "$KUBECONFORM"; exit 0; fi
	exec "$KUBECONFORM" -kubernetes-version "$K8S_VERSION" \
		-schema-location "$STATE/k8s-schemas/$KUBERNETES_VALIDATE_VERSION/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$@"
	;;
status)
	for name in $SERVERS; do
		if listening "$(port_of "$name")"; then echo "$name: up on $HOST:$(port_of "$name")"; else echo "$name: down"; fi
	done
	;;
start)
	[ -n "${2:-}" ] || die "usage: $0 start ${SERVERS// /|}"
	case "$2" in mongo) ensure_store ;; jaeger) ensure_jaeger ;; esac
	start_one "$2"
	;;
stop)
	[ -n "${2:-}" ] || die "usage: $0 stop ${SERVERS// /|}"
	port_of "$2" >/dev/null
	stop_one "$2"
	;;
*) die "usage: $0 up|down|env|status|python|kubeconform [ARGS]|nats-cluster [down]|start NAME|stop NAME" ;;
esac
