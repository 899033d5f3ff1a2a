# Pinned versions of the external tools longhaul builds or fetches from package registries.
# One place: scripts/setup.sh, the docs and the tests read these.
TEMPORAL_CLI_VERSION=v1.5.1            # temporal CLI (dev server 1.29.1 + Web UI); later tags carry a `replace` go install refuses
TEMPORAL_TEST_SERVER_VERSION=1.38.0    # io.temporal:temporal-test-server on Maven Central (time-skipping server)
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c   # github.com/minio/minio (untagged: pseudo-version of a pinned commit)
BIGQUERY_EMULATOR_VERSION=v0.8.1       # github.com/goccy/bigquery-emulator
