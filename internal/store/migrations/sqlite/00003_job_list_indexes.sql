-- +goose Up
-- Indexes for the list filters clients use most. SQLite uses an index on an
-- expression when a query has the same expression, so the filters on these
-- JSON fields count and page through an index instead of reading every job.
-- The NOCASE index serves like filters on names (LIKE is case-insensitive).
CREATE INDEX jobs_name_nocase ON jobs (vc_id, name COLLATE NOCASE);
CREATE INDEX jobs_spark_file ON jobs (vc_id, json_extract(spec, '$.spark.file'));
CREATE INDEX jobs_spark_class ON jobs (vc_id, json_extract(spec, '$.spark.className'));
CREATE INDEX jobs_spark_executor_cores ON jobs (vc_id, json_extract(spec, '$.spark.executorCores'));
CREATE INDEX jobs_spark_executor_memory ON jobs (vc_id, json_extract(spec, '$.spark.executorMemory'));
CREATE INDEX jobs_spark_driver_memory ON jobs (vc_id, json_extract(spec, '$.spark.driverMemory'));
CREATE INDEX jobs_spark_num_executors ON jobs (vc_id, json_extract(spec, '$.spark.numExecutors'));
CREATE INDEX resources_name_nocase ON resources (vc_id, name COLLATE NOCASE);

-- +goose Down
DROP INDEX resources_name_nocase;
DROP INDEX jobs_spark_num_executors;
DROP INDEX jobs_spark_driver_memory;
DROP INDEX jobs_spark_executor_memory;
DROP INDEX jobs_spark_executor_cores;
DROP INDEX jobs_spark_class;
DROP INDEX jobs_spark_file;
DROP INDEX jobs_name_nocase;
