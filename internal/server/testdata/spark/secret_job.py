# A PySpark job for the end-to-end tests: it imports a module shipped with
# its resource (lib/helper.py, through pyFiles) and a package of its
# python-env (tabulate), reads a workload secret in the driver and in the
# executors, prints what it read, and then waits to be killed.
import sys
import time

from pyspark.sql import SparkSession
from tabulate import tabulate

import helper

SECRET = "/etc/dex/secrets/db/password"


def read_secret(_):
    import helper as h  # in the executor's Python worker
    import tabulate as _t  # noqa: F401  the python-env is the workers' Python too
    with open(SECRET) as f:
        return h.tag(f.read())


spark = SparkSession.builder.getOrCreate()
print("driver read: " + read_secret(None), flush=True)
seen = spark.sparkContext.parallelize(range(4), 4).map(read_secret).collect()
print("executors read: " + ",".join(sorted(set(seen))), flush=True)
print(tabulate([["args", " ".join(sys.argv[1:])]]), flush=True)
print("READY", flush=True)
# Keep a task busy in an executor's Python worker, so that a kill has a
# whole tree to stop: spark-submit's JVM, the driver's Python, the workers.
spark.sparkContext.parallelize(range(2), 2).map(lambda _: time.sleep(3600)).collect()
