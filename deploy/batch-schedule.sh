#!/usr/bin/env bash
# The batch layer's schedule inside a container: spark-submit the batch jar's `run` (ingest, then
# recompute and publish) to the cluster at SPARK_MASTER_URL every BATCH_INTERVAL seconds. Every batch
# option comes from LAMBDA_* environment variables (see `--help`). A failed run is logged and retried
# at the next interval; the previous generation keeps serving meanwhile. A run still going after
# BATCH_TIMEOUT seconds (default: the interval) is stopped and counts as failed, so one that hangs
# (waiting for executors, say) does not hold back every run after it. On SIGTERM (docker stop) the run
# under way is asked to stop, and the schedule ends with it.
# In production prefer cron or Airflow calling the same spark-submit line (README, "Running on clusters").
set -uo pipefail
: "${SPARK_MASTER_URL:?SPARK_MASTER_URL must name the Spark master, e.g. spark://spark-master:7077}"
INTERVAL="${BATCH_INTERVAL:-3600}"
TIMEOUT="${BATCH_TIMEOUT:-$INTERVAL}"
for setting in "BATCH_INTERVAL=$INTERVAL" "BATCH_TIMEOUT=$TIMEOUT"; do
  if [[ ! "${setting#*=}" =~ ^[1-9][0-9]*$ ]]; then
    echo "batch-schedule: ${setting%%=*} must be a whole number of seconds, got \"${setting#*=}\"" >&2
    exit 2
  fi
done
DRIVER_HOST="${SPARK_DRIVER_HOST:-$(hostname)}"
run_pid=
stop() {
  echo "$(date -u +%FT%TZ) batch schedule stopping"
  if [[ -n "$run_pid" ]]; then
    kill -TERM "$run_pid" 2>/dev/null
    wait "$run_pid"
  fi
  exit 0
}
trap stop TERM INT
while true; do
  started=$(date +%s)
  echo "$(date -u +%FT%TZ) batch run starting"
  timeout --signal=TERM --kill-after=60 "$TIMEOUT" /opt/spark/bin/spark-submit \
    --master "$SPARK_MASTER_URL" --deploy-mode client \
    --class dev.lambda.batch.Main --name lambda-batch \
    --conf spark.driver.host="$DRIVER_HOST" --conf spark.driver.bindAddress=0.0.0.0 \
    ${SPARK_SUBMIT_OPTIONS:-} \
    /opt/lambda/batch-layer.jar run &
  run_pid=$!
  wait "$run_pid"
  status=$?
  run_pid=
  if [[ $status -eq 124 ]]; then
    echo "$(date -u +%FT%TZ) batch run FAILED: still running after ${TIMEOUT} s (BATCH_TIMEOUT), stopped" >&2
  elif [[ $status -ne 0 ]]; then
    echo "$(date -u +%FT%TZ) batch run FAILED with exit code $status" >&2
  else
    echo "$(date -u +%FT%TZ) batch run finished"
  fi
  elapsed=$(( $(date +%s) - started ))
  sleep $(( INTERVAL > elapsed ? INTERVAL - elapsed : 0 )) &
  run_pid=$!
  wait "$run_pid"
  run_pid=
done
