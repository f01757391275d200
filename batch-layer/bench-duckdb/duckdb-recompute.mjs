// The batch layer's recompute in DuckDB, for comparison with Spark (BatchBenchmark) on the same Parquet:
// valid events ingested before the cutoff, the earliest-ingested occurrence of each id, then every view of
// config/views.yml at every level: counts, exact decimal sum/min/max, approximate distinct counts.
// Usage: node duckdb-recompute.mjs <master>/kafka   (the path BatchBenchmark prints)
import { DuckDBInstance } from '@duckdb/node-api';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node duckdb-recompute.mjs <master dataset>/kafka');
  process.exit(2);
}
const threads = process.env.DUCKDB_THREADS || '2';
const instance = await DuckDBInstance.create(':memory:', { threads });
const db = await instance.connect();
const attr = (name) => `coalesce(element_at(attrs, '${name}')[1], '')`;

// the demo views (config/views.yml): name, event types, dimensions, levels, metrics
const views = [
  { name: 'pageviews', types: ['page_view'], dims: ['page', 'country'], levels: ['minute', 'hour', 'day'],
    metrics: ['count(*) AS views', `approx_count_distinct(element_at(attrs, 'user_id')[1]) AS visitors`] },
  { name: 'sales', types: ['purchase'], dims: ['product', 'country'], levels: ['minute', 'hour', 'day'],
    metrics: ['count(*) AS orders', 'sum(amount) AS revenue', 'min(amount) AS smallest', 'max(amount) AS biggest',
      `approx_count_distinct(element_at(attrs, 'user_id')[1]) AS buyers`] },
  { name: 'activity', types: ['page_view', 'purchase', 'signup'], dims: ['country'], levels: ['hour', 'day'],
    metrics: ['count(*) AS events', `approx_count_distinct(element_at(attrs, 'user_id')[1]) AS users`] },
];

const total = Number((await (await db.run(`SELECT count(*) FROM read_parquet('${dir}/*/*.parquet')`)).getRows())[0][0]);
console.log(`duckdb ${threads} threads, ${total.toLocaleString('en')} events in ${dir}`);
for (let run = 1; run <= 3; run++) {
  const started = process.hrtime.bigint();
  await db.run(`CREATE OR REPLACE TEMP TABLE counted AS
      SELECT event_id, event_type, event_ts, attrs,
             TRY_CAST(element_at(attrs, 'amount')[1] AS DECIMAL(18, 2)) AS amount
      FROM read_parquet('${dir}/*/*.parquet')
      WHERE valid AND ingest_ts < TIMESTAMP '2030-01-01'
      QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY ingest_ts, kafka_partition, kafka_offset) = 1`);
  const kept = Number((await (await db.run('SELECT count(*) FROM counted')).getRows())[0][0]);
  let rows = 0;
  for (const v of views) {
    for (const level of v.levels) {
      await db.run(`CREATE OR REPLACE TEMP TABLE result AS
          SELECT date_trunc('${level}', event_ts) AS bucket, ${v.dims.map((d) => `${attr(d)} AS ${d}`).join(', ')},
                 ${v.metrics.join(', ')}
          FROM counted WHERE event_type IN (${v.types.map((t) => `'${t}'`).join(', ')})
          GROUP BY ALL`);
      rows += Number((await (await db.run('SELECT count(*) FROM result')).getRows())[0][0]);
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`duckdb recompute run ${run}: ${total.toLocaleString('en')} events (${kept.toLocaleString('en')} after dedup) -> `
      + `${rows.toLocaleString('en')} rows in ${seconds.toFixed(1)} s = ${Math.round(total / seconds).toLocaleString('en')} events/s`);
}
