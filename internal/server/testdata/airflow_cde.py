"""Drives the real CDE Airflow operator (cloudera-airflow-provider) against a
Herd server, as an Airflow task would: access-key authentication through
describeService, generateWorkloadAuthToken and the cdptkn Knox endpoint,
then job runs with the requestID rule, status polling and kill.

Usage: python airflow_cde.py PORT ACCESS_KEY_FILE

The jobs API hosts are <vc>.cde-herd.localtest on port 443, as in CDE; this
script's resolver sends every *.localtest name and port to 127.0.0.1:PORT,
the part DNS and a load balancer play in a real deployment. Nothing of the
client is changed. Prints one JSON line per step; exits non-zero on the
first unexpected outcome.
"""

import json
import os
import socket
import sys
import time
import types

PORT = int(sys.argv[1])
KEY = json.load(open(sys.argv[2]))

_getaddrinfo = socket.getaddrinfo


def _resolve(host, port, *args, **kwargs):
    if isinstance(host, str) and host.endswith(".localtest"):
        host, port = "127.0.0.1", PORT
    return _getaddrinfo(host, port, *args, **kwargs)


socket.getaddrinfo = _resolve


def connection(vc):
    return json.dumps({
        "conn_type": "http",
        "host": "https://%s.cde-herd.localtest/dex/api/v1" % vc,
        "login": KEY["accessKeyId"],
        "password": KEY["privateKey"],
        "extra": {
            "cdp_endpoint": "https://api.cde-herd.localtest",
            "form_factor": "private",
            "insecure": True,
            "cache_dir": os.environ["CDE_TOKEN_CACHE"],
        },
    })


os.environ["AIRFLOW_CONN_CDE_ETL"] = connection("etl")
os.environ["AIRFLOW_CONN_CDE_REMOTE"] = connection("remote")

from airflow.exceptions import AirflowException  # noqa: E402
from cloudera.airflow.providers.hooks.cde import CdeHook  # noqa: E402
from cloudera.airflow.providers.operators.cde import CdeRunJobOperator  # noqa: E402


def report(step, **fields):
    fields["step"] = step
    print(json.dumps(fields), flush=True)


def context(task):
    ti = types.SimpleNamespace(dag_id="herd_e2e", run_id="manual__2026-11-23T00:00:00+00:00",
                               task_id=task, try_number=1)
    return {"ds": "2026-11-23", "ds_nodash": "20261123", "ts": "2026-11-23T00:00:00+00:00",
            "ts_nodash": "20261123T000000", "run_id": ti.run_id, "task_instance": ti}


# "Test connection" in the Airflow UI: GET /info of etl's host.
ok, msg = CdeHook(connection_id="cde_etl", num_retries=1).test_connection()
report("test_connection", ok=ok, message=msg)
if not ok:
    sys.exit(1)

# A task that runs SparkPi and waits for it.
op = CdeRunJobOperator(task_id="pi", job_name="pi", connection_id="cde_etl", variables={"slices": "3"},
                       overrides={"spark": {"driverMemory": "512m"}}, job_poll_interval=1, api_retries=1)
op.execute(context("pi"))
report("pi", run=op._job_run_id)

# A retried task submits again with its requestID: the answer is the same
# run (the job's runs fail before Spark starts: it is cheap to run).
remote = CdeHook(connection_id="cde_remote", num_retries=1)
first = remote.submit_job("secret", request_id="herd_e2e#retry#secret#1#0")
again = remote.submit_job("secret", request_id="herd_e2e#retry#secret#1#0")
report("request_id", first=first, again=again)
if first != again:
    sys.exit(1)

# A job run that fails fails the task.
op = CdeRunJobOperator(task_id="secret", job_name="secret", connection_id="cde_remote", job_poll_interval=1, api_retries=1)
try:
    op.execute(context("secret"))
    report("failing", raised=False)
    sys.exit(1)
except AirflowException as err:
    report("failing", raised=True, run=op._job_run_id, error=str(err))

# A task cancelled while its run is live kills the run.
hook = CdeHook(connection_id="cde_etl", num_retries=1)
op = CdeRunJobOperator(task_id="sleep", job_name="sleep", connection_id="cde_etl", wait=False, api_retries=1)
op.execute(context("sleep"))
deadline = time.time() + 180
while hook.check_job_run_status(op._job_run_id) != "running":
    if time.time() > deadline:
        report("kill", error="the run did not start")
        sys.exit(1)
    time.sleep(1)
op.on_kill()
while True:
    status = hook.check_job_run_status(op._job_run_id)
    if status not in ("starting", "running") or time.time() > deadline:
        break
    time.sleep(0.5)
report("kill", run=op._job_run_id, status=status)
print("AIRFLOW CDE OPERATOR PASSED", flush=True)
