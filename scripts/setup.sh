#!/usr/bin/env bash
# Provides the real Temporal parts (and the S3 / BigQuery test servers) without any download site:
# everything comes from package registries (Go module proxy, Maven Central). Idempotent; results are
# cached under .longhaul/ (git-ignored). Usage:
#   scripts/setup.sh            temporal CLI + time-skipping test server (enough for `npm run demo`)
#   scripts/setup.sh --all      also MinIO, the BigQuery emulator, and Debian's postgresql and chromium
#                               packages (apt-get, as root; needed by `npm test`)
#   scripts/setup.sh --bench    also Debian's wrk (the load generator of `npm run bench:videos-api`)
# Each tool: an executable already under .longhaul/bin is kept; else one on PATH is linked; else it is
# built from source; if that is impossible (no Go / JDK), the SDK's own download is used at run time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=versions.sh
source "$ROOT/scripts/versions.sh"
LH="${LONGHAUL_HOME:-$ROOT/.longhaul}"
BIN="$LH/bin"
mkdir -p "$BIN"
WITH_ALL=0
WITH_BENCH=0
for a in "$@"; do case "$a" in --all) WITH_ALL=1 ;; --bench) WITH_BENCH=1 ;; *) echo "setup: unknown argument $a" >&2; exit 2 ;; esac; done

log() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
# apt_install <what> <package…>: Debian packages, as root; stops with a clear message when impossible here
apt_install() {
  local what="$1"
  shift
  if [ "$(id -u)" != 0 ] || ! have apt-get; then
    log "apt: $* missing and cannot be installed here (needs root and apt-get): install them, or $what"
    exit 1
  fi
  log "apt: installing $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 || { log "apt: apt-get update failed"; exit 1; }
  apt-get install -y -q --no-install-recommends "$@" >&2 || { log "apt: installing $* failed"; exit 1; }
}
stamp_ok() { [ -x "$BIN/$1" ] && [ "$(cat "$LH/$1.version" 2>/dev/null)" = "$2" ]; }

go_build() { # name package version [module]
  local name="$1" pkg="$2" version="$3" module="${4:-}"
  if stamp_ok "$name" "$version"; then log "$name $version: cached"; return 0; fi
  if ! have go; then log "$name: no Go toolchain; skipped"; return 1; fi
  log "$name: building $pkg@$version from the Go module proxy (first time: several minutes)"
  local t0=$SECONDS
  if [ -z "$module" ]; then
    CGO_ENABLED=0 GOBIN="$BIN" go install -trimpath "$pkg@$version" || return 1
  else
    # `go install pkg@version` also asks the proxy for the module's version list (deprecation check); where
    # the proxy refuses that list, build from a throwaway module that requires the pinned version instead.
    local dir="$LH/build/$name"
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && go mod init "longhaul-tools/$name" >/dev/null 2>&1 &&
      go get "$pkg@$version" && CGO_ENABLED=0 go build -trimpath -o "$BIN/$name" "$pkg") || return 1
  fi
  echo "$version" > "$LH/$name.version"
  log "$name: built in $((SECONDS - t0))s"
}

# 1. temporal CLI
if stamp_ok temporal "$TEMPORAL_CLI_VERSION"; then
  log "temporal $TEMPORAL_CLI_VERSION: cached"
elif have temporal && [ "$(readlink -f "$(command -v temporal)")" != "$(readlink -f "$BIN/temporal" 2>/dev/null)" ]; then
  ln -sf "$(command -v temporal)" "$BIN/temporal"; echo "path:$(command -v temporal)" > "$LH/temporal.version"
  log "temporal: using $(command -v temporal)"
else
  go_build temporal github.com/temporalio/cli/cmd/temporal "$TEMPORAL_CLI_VERSION" \
    || log "temporal: not built; the SDK will download the CLI itself (needs internet)"
fi

# 2. Java time-skipping test server
TS_DIR="$LH/test-server"
if stamp_ok temporal-test-server "$TEMPORAL_TEST_SERVER_VERSION"; then
  log "temporal-test-server $TEMPORAL_TEST_SERVER_VERSION: cached"
elif have java && have mvn; then
  log "temporal-test-server: resolving io.temporal:temporal-test-server:$TEMPORAL_TEST_SERVER_VERSION from Maven Central"
  rm -rf "$TS_DIR"; mkdir -p "$TS_DIR/lib"
  cat > "$TS_DIR/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.longhaul</groupId><artifactId>test-server-classpath</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId>
      <version>$TEMPORAL_TEST_SERVER_VERSION</version></dependency>
  </dependencies>
</project>
POM
  mvn -B -q -f "$TS_DIR/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$TS_DIR/lib"
  # The SDK starts an `existing-path` executable as `<path> <port> [args]` and kills only that process:
  # exec java so the JVM *is* that process. C1 only + serial GC: fastest cold start on 2 cores.
  cat > "$BIN/temporal-test-server" <<SH
#!/usr/bin/env bash
exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -cp "$TS_DIR/lib/*" io.temporal.testserver.TestServer "\$@"
SH
  chmod +x "$BIN/temporal-test-server"
  echo "$TEMPORAL_TEST_SERVER_VERSION" > "$LH/temporal-test-server.version"
  log "temporal-test-server: $(ls "$TS_DIR/lib" | wc -l) jars"
else
  log "temporal-test-server: no JDK/Maven; the SDK will download the test server itself (needs internet)"
fi

if [ "$WITH_ALL" = 1 ]; then
  # 3. MinIO (S3-compatible server for the S3 bucket tests)
  go_build minio github.com/minio/minio "$MINIO_VERSION" || log "minio: not built; S3 tests will be skipped"
  # 4. BigQuery emulator (pure Go since v0.7.0; peak ~1.6 GB while compiling)
  go_build bigquery-emulator github.com/goccy/bigquery-emulator/cmd/bigquery-emulator "$BIGQUERY_EMULATOR_VERSION" module \
    || log "bigquery-emulator: not built; BigQuery tests will be skipped"
  # 5. Debian packages: PostgreSQL 15 (videos store contract test) and Chromium (dashboard test)
  need_pkgs=()
  [ -x "${LONGHAUL_PG_BIN:-/usr/lib/postgresql/15/bin}/initdb" ] || need_pkgs+=(postgresql)
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need_pkgs+=(chromium)
  # Debian's postgresql package starts a cluster service; the tests run their own throwaway servers
  if [ "${#need_pkgs[@]}" -gt 0 ]; then apt_install "tests fail" "${need_pkgs[@]}"; fi
  log "apt: postgresql and chromium present"
fi
if [ "$WITH_BENCH" = 1 ] && [ ! -x "${WRK:-/usr/bin/wrk}" ]; then apt_install "set WRK" wrk; fi
log "done: $(ls "$BIN" | tr '\n' ' ')"
