#!/usr/bin/env bash
# The batch layer's schedule inside a container: spark-submit the batch jar's `run` (ingest, then
# recompute and publish) to the cluster at SPARK_MASTER_URL every BATCH_INTERVAL seconds. Every batch
# option comes from LAMBDA_* environment variables (see `--help`). A failed run is logged and retried
# at the next interval; the previous generation keeps serving meanwhile.
# In production prefer cron or Airflow calling the same spark-submit line (README, "Running on clusters").
set -uo pipefail
: "${SPARK_MASTER_URL:?SPARK_MASTER_URL must name the Spark master, e.g. spark://spark-master:7077}"
INTERVAL="${BATCH_INTERVAL:-3600}"
DRIVER_HOST="${SPARK_DRIVER_HOST:-$(hostname)}"
while true; do
  started=$(date +%s)
  echo "$(date -u +%FT%TZ) batch run starting"
  /opt/spark/bin/spark-submit \
    --master "$SPARK_MASTER_URL" --deploy-mode client \
    --class dev.lambda.batch.Main --name lambda-batch \
    --conf spark.driver.host="$DRIVER_HOST" --conf spark.driver.bindAddress=0.0.0.0 \
    ${SPARK_SUBMIT_OPTIONS:-} \
    /opt/lambda/batch-layer.jar run
  status=$?
  echo "$(date -u +%FT%TZ) batch run finished with exit code $status"
  elapsed=$(( $(date +%s) - started ))
  sleep $(( INTERVAL > elapsed ? INTERVAL - elapsed : 0 ))
done
