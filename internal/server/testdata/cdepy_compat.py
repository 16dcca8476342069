"""Drives the real cdepy client (PyPI) against a Herd server.

Usage: python cdepy_compat.py <port> <user> <password>

cdepy derives the Knox token URL by replacing the first DNS label of the
jobs API host with "service", which needs a dotted host name. Host names
under .herd.test are resolved to 127.0.0.1 here, in place of a DNS entry;
cdepy itself runs unchanged. cdepy reports failures by printing, so every
step is checked by reading the server's state back.
"""
import json
import os
import socket
import sys
import tempfile

_getaddrinfo = socket.getaddrinfo


def _resolve(host, *args, **kwargs):
    if isinstance(host, str) and host.endswith(".herd.test"):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _resolve

from cdepy import cdeconnection, cdecredentials, cdejob, cdemanager, cderesource  # noqa: E402


def check(cond, what):
    if not cond:
        print("CHECK FAILED: " + what, flush=True)
        sys.exit(1)
    print("ok: " + what, flush=True)


port, user, password = sys.argv[1:4]
url = "http://vc-default.herd.test:%s/dex/api/v1" % port
conn = cdeconnection.CdeConnection(url, user, password)
conn.setToken()
check(conn.TOKEN.count(".") == 2, "token from the Knox endpoint derived by cdepy")
mgr = cdemanager.CdeClusterManager(conn)

info = mgr.listVcMeta()
check(info.get("appName") == "default", "listVcMeta returns appName")

# A files resource, with cdepy's hyphenated keys, and a file in it.
mgr.createResource(cderesource.CdeFilesResource("cdepy-files").createResourceDefinition())
workdir = tempfile.mkdtemp()
with open(os.path.join(workdir, "app.py"), "w") as f:
    f.write("print('hello from cdepy')\n")
with open(os.path.join(workdir, "dag.py"), "w") as f:
    f.write("from airflow import DAG\ndag = DAG(dag_id='cdepy_dag')\n")
mgr.uploadFileToResource("cdepy-files", workdir, "app.py")
mgr.uploadFileToResource("cdepy-files", workdir, "dag.py")
res = json.loads(mgr.describeResource("cdepy-files"))
check(res["type"] == "files" and res["retentionPolicy"] == "keep_indefinitely", "files resource created")
check(sorted(f["path"] for f in res["files"]) == ["app.py", "dag.py"], "files uploaded")
check(mgr.downloadFileFromResource("cdepy-files", "app.py") == "print('hello from cdepy')\n", "file downloaded")

# A python-env resource, with "python-version" and "retention-policy".
mgr.createResource(cderesource.CdePythonResource("python-env").createResourceDefinition("cdepy-env"))
env = json.loads(mgr.describeResource("cdepy-env", includeFiles=False))
check(env["type"] == "python-env" and env["pythonEnv"]["pythonVersion"] == "python3", "python-env resource created")

# A Spark job; cdepy puts workloadCredentials inside "spark".
spark = cdejob.CdeSparkJob(conn).createJobDefinition(
    "cdepy-job", "cdepy-files", "app.py", executorMemory="2g", workloadCredentials=["cdepy-secret"],
    enabled=True, cronExpression="0 * * * *")
mgr.createJob(spark)
names = [j["name"] for j in json.loads(mgr.listJobs())["jobs"]]
check("cdepy-job" in names, "job listed")
job = json.loads(mgr.describeJob("cdepy-job"))
check(job["spark"]["executorMemory"] == "2g" and job["spark"]["file"] == "app.py", "job described")
check(job["workloadCredentials"] == ["cdepy-secret"], "workload credentials kept once, at the top level")
check(job["mounts"] == [{"resourceName": "cdepy-files"}], "mount kept")

# An Airflow job on the uploaded DAG.
airflow = cdejob.CdeAirflowJob(conn).createJobDefinition("cdepy-dag", "dag.py", "cdepy-files")
mgr.createJob(airflow)
dag = json.loads(mgr.describeJob("cdepy-dag"))
check(dag["airflow"]["dagID"] == "cdepy_dag", "airflow job reads the DAG id")

# Schedules.
check(job["schedule"]["enabled"] and job["schedule"]["nextExecution"], "schedule has a next execution")
mgr.pauseSingleJob("cdepy-job")
check(json.loads(mgr.describeJob("cdepy-job"))["schedule"]["paused"], "schedule paused")
mgr.unpauseSingleJob("cdepy-job")
check(not json.loads(mgr.describeJob("cdepy-job"))["schedule"]["paused"], "schedule unpaused")

# Deleting jobs.
mgr.deleteJob("cdepy-job")
mgr.deleteJob("cdepy-dag")
names = [j["name"] for j in json.loads(mgr.listJobs())["jobs"]]
check("cdepy-job" not in names and "cdepy-dag" not in names, "jobs deleted")

# Credentials: cdepy manages basic ones.
creds = cdecredentials.CdeCredentialsManager(conn)
creds.createBasicCredential("cdepy-basic", "git-user", "git-pass-123")
listed = json.loads(creds.listCredentials())["credentials"]
check(any(c["name"] == "cdepy-basic" and c["type"] == "basic" for c in listed), "basic credential created")
check("git-pass-123" not in creds.listCredentials(), "credential value not returned")
creds.describeCredential("cdepy-basic")
creds.deleteCredential("cdepy-basic")
check(all(c["name"] != "cdepy-basic" for c in json.loads(creds.listCredentials())["credentials"]), "credential deleted")

# Cleaning up resources.
mgr.removeFileFromResource("cdepy-files", "app.py")
res = json.loads(mgr.describeResource("cdepy-files"))
check([f["path"] for f in res["files"]] == ["dag.py"], "file removed")
mgr.deleteResource("cdepy-files")
mgr.deleteResource("cdepy-env")
check(json.loads(mgr.describeResource("cdepy-files")).get("status") == 404, "resource deleted")
print("CDEPY COMPATIBLE", flush=True)
