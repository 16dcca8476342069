"""Runs the cm_api "Python Client" walkthrough against a live server and checks it.

Python 2.7 only; it drives the real cm_api client (PyPI cm-api 19.2.2, which
scripts/setup.sh installs into build/py2) and nothing else:

  PYTHONPATH=build/py2 python2.7 internal/server/testdata/cmapi/walkthrough.py \\
      --host 127.0.0.1 --port 7180 --user admin --password admin \\
      --cluster 'Cluster 1' --hdfs HDFS-1 --spark SPARK-1 [--only auth,config]

The server must hold the cluster named by --cluster with an HDFS service (one
NAMENODE, DATANODEs, a base DATANODE role config group) and a Spark service,
all started. Every check prints "ok <name>: <detail>"; the first failure prints
"FAIL <name>: <why>" and exits 1. A full pass ends with "CM_API WALKTHROUGH PASSED".
The sections change the HDFS service (restart, stop, start) and set and then
reset dfs_replication and process_auto_restart.
"""
from __future__ import print_function

import argparse
import datetime
import os
import sys
import time
import traceback

if sys.version_info[:2] != (2, 7):
    sys.exit("walkthrough.py needs Python 2.7, as cm_api does; run it with the interpreter named in "
             "build/py2/.python (make setup writes it)")

import urllib2  # noqa: E402

try:
    import cm_api  # noqa: F401
except ImportError:
    # Not on PYTHONPATH: use the copy scripts/setup.sh installs into build/py2.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "build", "py2"))
try:
    from cm_api.api_client import ApiException, ApiResource
    from cm_api.endpoints.types import ApiConfig
except ImportError as e:
    sys.exit("cannot import cm_api (%s): run make setup, which installs it into build/py2, "
             "or set PYTHONPATH to a directory holding cm_api" % e)

SECTIONS = ["auth", "inventory", "services", "health", "lifecycle", "config", "groups", "notfound"]

# Enumerations of the v19 API (docs: spec section 4).
CLUSTER_VERSIONS = ("CDH3", "CDH3u4X", "CDH4", "CDH5", "CDH6", "UNKNOWN")
HEALTH = ("DISABLED", "HISTORY_NOT_AVAILABLE", "NOT_AVAILABLE", "GOOD", "CONCERNING", "BAD")
SERVICE_STATES = ("HISTORY_NOT_AVAILABLE", "UNKNOWN", "STARTING", "STARTED", "STOPPING", "STOPPED", "NA")
ROLE_STATES = ("HISTORY_NOT_AVAILABLE", "UNKNOWN", "STARTING", "STARTED", "BUSY", "STOPPING", "STOPPED", "NA")
COMMISSION_STATES = ("COMMISSIONED", "DECOMMISSIONING", "DECOMMISSIONED", "UNKNOWN", "OFFLINING", "OFFLINED")


class CheckFailed(Exception):
    pass


def out(line):
    if isinstance(line, unicode):
        line = line.encode("utf-8")
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def show(*values):
    """Prints what the walkthrough itself prints, indented under the checks."""
    out(u"   " + u" ".join(v if isinstance(v, unicode) else str(v).decode("utf-8") for v in values))


def ok(name, detail=""):
    out(u"ok %s: %s" % (name, detail if isinstance(detail, unicode) else str(detail).decode("utf-8")))


def check(cond, name, detail):
    """Prints "ok name: detail" if cond holds, else stops the run."""
    if not cond:
        raise CheckFailed("%s: %s" % (name, detail))
    ok(name, detail)


def fail(name, detail):
    raise CheckFailed("%s: %s" % (name, detail))


def expect_api_exception(name, fn, code):
    """Calls fn and returns the ApiException it must raise with the given HTTP code."""
    try:
        got = fn()
    except ApiException as e:
        if e.code != code:
            fail(name, "ApiException with code %r (want %d): %s" % (e.code, code, e))
        return e
    fail(name, "no ApiException (want HTTP %d); the call returned %r" % (code, got))


def poll(seconds, interval, fn):
    """Calls fn until it returns something true or seconds pass; returns the last result."""
    deadline = time.time() + seconds
    while True:
        res = fn()
        if res or time.time() >= deadline:
            return res
        time.sleep(interval)


class Walk(object):
    def __init__(self, args):
        self.args = args
        self._api = None
        self.challenges = [0]  # 401 challenges the client answered, counted by _count_challenges
        self._nn = None

    # The client and the objects the sections share, fetched on first use so
    # that --only can run any section alone.

    @property
    def api(self):
        if self._api is None:
            a = self.args
            self._api = ApiResource(a.host, a.port, a.user, a.password, version=a.api_version)
            self._count_challenges(self._api)
        return self._api

    def _count_challenges(self, api):
        # Observes (does not change) the client's urllib2 basic-auth handler,
        # so the auth section can tell a cookie session from a 401 per call.
        for h in api._client._opener.handlers:
            if isinstance(h, urllib2.HTTPBasicAuthHandler):
                orig = h.http_error_401
                counter = self.challenges

                def counted(req, fp, code, msg, headers, _orig=orig):
                    counter[0] += 1
                    return _orig(req, fp, code, msg, headers)

                h.http_error_401 = counted

    def cookie_jar(self):
        for h in self.api._client._opener.handlers:
            if isinstance(h, urllib2.HTTPCookieProcessor):
                return h.cookiejar
        return None

    def cluster(self):
        return self.api.get_cluster(self.args.cluster)

    def hdfs(self):
        return self.cluster().get_service(self.args.hdfs)

    def namenode(self):
        if self._nn is None:
            nns = [r for r in self.hdfs().get_all_roles() if r.type == "NAMENODE"]
            if len(nns) != 1:
                fail("namenode", "want exactly one NAMENODE role in %s, got %d" % (self.args.hdfs, len(nns)))
            self._nn = nns[0]
        return self._nn

    # Sections.

    def auth(self):
        a = self.args
        try:
            res = self.api.echo("ping")
        except ApiException as e:
            if e.code != 401:
                raise
            fail("echo", "ApiException 401 (%s) after %d challenge(s): cm_api never sends credentials "
                 "pre-emptively; it needs a 401 with exactly 'WWW-Authenticate: Basic realm=\"Cloudera Manager\"' "
                 "and then accepts the retried request's Basic credentials" % (e.message, self.challenges[0]))
        check(res == {"message": "ping"}, "echo", "api.echo('ping') returned %r" % (res,))
        check(self.challenges[0] == 1, "auth challenge",
              "the first call was answered with a 401 Basic realm=\"Cloudera Manager\" challenge, "
              "then accepted with credentials (%d challenge(s))" % self.challenges[0])
        jar = self.cookie_jar()
        cookies = ["%s (path %s)" % (c.name, c.path) for c in jar] if jar is not None else []
        check(cookies, "session cookie", "the authenticated answer set %s" % ", ".join(cookies))
        probe = urllib2.Request(self.api._client.base_url + "/clusters")
        jar.add_cookie_header(probe)
        check(probe.has_header("Cookie"), "session cookie scope",
              "the cookie is sent on later calls to other paths under %s" % self.api._client.base_url)
        res = self.api.echo("again")
        check(res == {"message": "again"} and self.challenges[0] == 1, "cookie session",
              "a second call was accepted on the cookie alone (challenges so far: %d)" % self.challenges[0])
        bad = ApiResource(a.host, a.port, a.user, a.password + "-WRONG", version=a.api_version)
        e = expect_api_exception("wrong password", lambda: bad.echo("x"), 401)
        ok("wrong password", "ApiException code %s: %s" % (e.code, e.message))

    def inventory(self):
        clusters = self.api.get_all_clusters()
        names = [c.name for c in clusters]
        mine = [c for c in clusters if c.name == self.args.cluster]
        check(len(mine) == 1, "cluster listed", "get_all_clusters() lists %r among %r" % (self.args.cluster, names))
        c = mine[0]
        check(c.version in CLUSTER_VERSIONS, "cluster version", "version %r" % (c.version,))
        check(bool(c.fullVersion), "cluster fullVersion", "fullVersion %r" % (c.fullVersion,))
        show(c)
        same = self.api.get_cluster(self.args.cluster)
        check(same.name == c.name and same.version == c.version and same.fullVersion == c.fullVersion,
              "get_cluster", "get_cluster(%r) matches the listed cluster: %s" % (self.args.cluster, same))
        hosts = self.api.get_all_hosts()
        for h in hosts:
            show(h, h.hostname)
            if not (h.hostId and h.hostname and h.ipAddress):
                fail("hosts", "host without hostId, hostname or ipAddress: %r" % (h.to_json_dict(True),))
        check(len(hosts) >= 3, "hosts", "get_all_hosts() lists %d hosts, each with hostId, hostname, ipAddress"
              % len(hosts))
        ids = set(h.hostId for h in hosts)
        refs = self.cluster().list_hosts()
        ref_ids = [r.hostId for r in refs]
        check(ref_ids and set(ref_ids) <= ids, "cluster hosts",
              "cluster.list_hosts() gives %d host refs, all known hosts: %s" % (len(ref_ids), ", ".join(ref_ids)))

    def services(self):
        a = self.args
        cluster = self.cluster()
        services = cluster.get_all_services()
        for s in services:
            show(s)
            if ("(cluster: %s)" % a.cluster) not in str(s):
                fail("service printed", "%r lacks '(cluster: %s)': clusterRef missing?" % (str(s), a.cluster))
            if s.serviceState not in SERVICE_STATES or s.healthSummary not in HEALTH:
                fail("service states", "%s has serviceState %r, healthSummary %r"
                     % (s.name, s.serviceState, s.healthSummary))
        ok("services printed", "%d services, each printed with (cluster: %s), with a serviceState and healthSummary"
           % (len(services), a.cluster))
        hdfs = [s for s in services if s.type == "HDFS"]
        check(len(hdfs) == 1 and hdfs[0].name == a.hdfs, "hdfs by type",
              "the HDFS service is %r" % ([s.name for s in hdfs],))
        spark = [s for s in services if s.name == a.spark]
        check(len(spark) == 1 and spark[0].type in ("SPARK", "SPARK_ON_YARN"), "spark service",
              "%s has type %r" % (a.spark, spark and spark[0].type))
        hdfs = hdfs[0]
        roles = hdfs.get_all_roles()
        host_ids = set(h.hostId for h in self.api.get_all_hosts())
        for r in roles:
            show(r, r.type, r.roleState, r.hostRef and r.hostRef.hostId)
        nns = [r for r in roles if r.type == "NAMENODE"]
        dns = [r for r in roles if r.type == "DATANODE"]
        check(len(nns) == 1 and len(dns) >= 1, "hdfs roles",
              "%d roles: %d NAMENODE, %d DATANODE" % (len(roles), len(nns), len(dns)))
        nn = nns[0]
        self._nn = nn
        show("Role name: %s; State: %s; Health: %s; Host: %s; Commission: %s"
             % (nn.name, nn.roleState, nn.healthSummary, nn.hostRef.hostId, nn.commissionState))
        check(("(cluster: %s; service: %s)" % (a.cluster, a.hdfs)) in str(nn), "namenode printed", str(nn))
        check(nn.roleState in ROLE_STATES, "namenode roleState", nn.roleState)
        check(nn.healthSummary in HEALTH, "namenode healthSummary", nn.healthSummary)
        check(nn.hostRef.hostId in host_ids, "namenode host", "hostRef.hostId %r is a known host" % nn.hostRef.hostId)
        check(nn.commissionState in COMMISSION_STATES, "namenode commissionState", nn.commissionState)
        got = hdfs.get_role(nn.name)
        fields = ("name", "type", "roleState", "commissionState")
        same = all(getattr(got, f) == getattr(nn, f) for f in fields) and \
            got.hostRef.hostId == nn.hostRef.hostId and \
            (got.serviceRef.clusterName, got.serviceRef.serviceName) == (a.cluster, a.hdfs)
        check(same, "get_role", "hdfs.get_role(%r) equals the listed role (%s, hostRef, serviceRef)"
              % (nn.name, ", ".join(fields)))

    def health(self):
        a = self.args
        listed = [s for s in self.cluster().get_all_services() if s.name == a.hdfs][0]
        show(listed.name, listed.serviceState, listed.healthSummary)
        check(listed.serviceState == "STARTED", "hdfs serviceState", "%r from get_all_services()"
              % listed.serviceState)
        check(listed.healthSummary in HEALTH, "hdfs healthSummary", "%r from get_all_services()"
              % listed.healthSummary)

        def good():
            s = self.hdfs()
            return s if s.healthSummary == "GOOD" else None
        hdfs = poll(60, 2, good)
        check(hdfs is not None, "hdfs health GOOD", "hdfs.healthSummary reached GOOD within 60 s")
        show(hdfs.serviceUrl)
        check((hdfs.serviceUrl or "").endswith("/cmf/serviceRedirect/" + a.hdfs), "hdfs serviceUrl",
              hdfs.serviceUrl)
        checks = hdfs.healthChecks
        check(isinstance(checks, list), "hdfs healthChecks", "a list of %d checks" % len(checks or []))
        for chk in checks:
            show("%s --- %s" % (chk["name"], chk["summary"]))
            if chk["summary"] not in HEALTH:
                fail("health check", "%r has summary %r" % (chk["name"], chk["summary"]))
        ok("health checks printed", ", ".join("%s=%s" % (c["name"], c["summary"]) for c in checks))

    def wait_ok(self, name, cmd):
        """Waits for an ApiCommand and checks that it finished successfully."""
        t0 = time.time()
        done = cmd.wait(timeout=self.args.timeout)
        show(done)
        if done.active:
            fail(name, "command %s still active after %d s" % (done.id, self.args.timeout))
        check(done.success is True, name, "%s finished in %.0f s, success %r, resultMessage %r"
              % (done.name, time.time() - t0, done.success, done.resultMessage))
        if not isinstance(done.endTime, datetime.datetime) or not isinstance(done.startTime, datetime.datetime):
            fail(name, "startTime %r / endTime %r are not datetimes" % (done.startTime, done.endTime))
        if done.endTime < done.startTime:
            fail(name, "endTime %s before startTime %s" % (done.endTime, done.startTime))
        ok(name + " times", "startTime %s, endTime %s" % (done.startTime.isoformat(), done.endTime.isoformat()))
        return done

    def service_state(self, name, want):
        hdfs = self.hdfs()
        check(hdfs.serviceState == want, name, "%s serviceState %r" % (hdfs.name, hdfs.serviceState))
        states = sorted(set(r.roleState for r in hdfs.get_all_roles()))
        check(states == [want], name + " roles", "roleState of every HDFS role: %s" % ", ".join(states))

    def lifecycle(self):
        hdfs = self.hdfs()
        nn = self.namenode()
        cmd = hdfs.restart()
        show(cmd)
        check(cmd.active is True and isinstance(cmd.id, (int, long)) and cmd.id >= 0, "restart submitted",
              "hdfs.restart() returned active command %r (%s)" % (cmd.id, cmd.name))
        self.wait_ok("restart", cmd)
        self.service_state("started after restart", "STARTED")

        self.wait_ok("stop", hdfs.stop())
        self.service_state("stopped", "STOPPED")
        self.wait_ok("start", hdfs.start())
        self.service_state("started", "STARTED")

        cmds = hdfs.restart_roles(nn.name)
        for c in cmds:
            show(c)
        check(len(cmds) == 1 and not cmds.errors, "restart_roles",
              "hdfs.restart_roles(%r) gave %d command(s), errors %r" % (nn.name, len(cmds), cmds.errors))
        for c in cmds:
            self.wait_ok("restart_roles wait", c)
        self.service_state("started after role restart", "STARTED")

        try:
            res = hdfs.restart_roles("NOPE")
        except ApiException as e:
            ok("restart_roles unknown role", "ApiException code %s: %s" % (e.code, e.message))
        else:
            check(bool(res.errors), "restart_roles unknown role",
                  "no exception; %d command(s) and errors %r" % (len(res), res.errors))

    def roles_stale(self):
        roles = self.hdfs().get_all_roles()
        return roles if all(r.configStale is True for r in roles) else None

    def config(self):
        hdfs = self.hdfs()
        cfg = hdfs.get_config(view="full")
        check(isinstance(cfg, tuple) and len(cfg) == 2 and isinstance(cfg[1], dict), "service config shape",
              "hdfs.get_config(view='full') is a 2-tuple, [1] = %r" % (cfg[1],))
        full = cfg[0]
        for name, c in sorted(full.items())[:5]:
            show("%s - %s - %s" % (name, c.relatedName, c.description))
        d = full.get("dfs_replication")
        check(isinstance(d, ApiConfig), "dfs_replication listed", "%d configs in the full view" % len(full))
        check(d.relatedName == "dfs.replication", "dfs_replication relatedName", repr(d.relatedName))
        check(d.default not in (None, ""), "dfs_replication default", repr(d.default))
        check(bool(d.description), "dfs_replication description", d.description)

        res = hdfs.update_config({"dfs_replication": 2})
        show(res)
        check(isinstance(res, tuple) and len(res) == 2, "update_config returns a 2-tuple", repr(res))
        check(res[0].get("dfs_replication") == u"2", "dfs_replication set",
              "update_config(...)[0]['dfs_replication'] = %r" % (res[0].get("dfs_replication"),))
        check(res[1] == {}, "update_config role types", "update_config(...)[1] = %r" % (res[1],))
        got = hdfs.get_config()[0].get("dfs_replication")
        check(got == u"2", "dfs_replication read back", "hdfs.get_config()[0]['dfs_replication'] = %r" % (got,))
        stale = poll(10, 1, self.roles_stale)
        check(stale is not None, "roles configStale", "every HDFS role shows configStale True within 10 s")
        ok("roles configStalenessStatus", ", ".join(sorted(set(str(r.configStalenessStatus) for r in stale))))

        res = hdfs.update_config({"dfs_replication": None})
        show(res)
        check("dfs_replication" not in res[0], "dfs_replication reset", "absent from the update's answer %r"
              % (res[0],))
        now = hdfs.get_config()[0]
        check("dfs_replication" not in now, "dfs_replication reset read back",
              "absent from hdfs.get_config()[0] = %r" % (now,))

    def groups(self):
        a = self.args
        groups = self.hdfs().get_all_role_config_groups()
        for g in groups:
            show(g, g.roleType, "base" if g.base else "")
        dn_groups = [g for g in groups if g.roleType == "DATANODE"]
        check(dn_groups, "datanode groups", ", ".join(g.name for g in dn_groups))
        check(any(g.base is True for g in dn_groups), "datanode base group",
              "base group %s" % [g.name for g in dn_groups if g.base])
        check(all(("(cluster: %s; service: %s)" % (a.cluster, a.hdfs)) in str(g) for g in dn_groups),
              "groups printed", "each group prints its cluster and service (serviceRef)")
        full = dn_groups[0].get_config(view="full")
        for name, c in sorted(full.items())[:5]:
            show("%s - %s - %s" % (name, c.relatedName, c.description))
        p = full.get("process_auto_restart")
        check(isinstance(p, ApiConfig) and bool(p.description), "process_auto_restart description",
              p and p.description)
        for g in dn_groups:
            res = g.update_config({"process_auto_restart": True})
            show(res)
            check(res.get("process_auto_restart") == u"true", "process_auto_restart set",
                  "%s.update_config(...)['process_auto_restart'] = %r" % (g.name, res.get("process_auto_restart")))
            got = g.get_config().get("process_auto_restart")
            check(got == u"true", "process_auto_restart read back", "%s.get_config() = %r" % (g.name, got))
        for g in dn_groups:
            res = g.update_config({"process_auto_restart": None})
            show(res)
            check("process_auto_restart" not in res, "process_auto_restart reset",
                  "absent from %s's answer %r" % (g.name, res))
            now = g.get_config()
            check("process_auto_restart" not in now, "process_auto_restart reset read back",
                  "absent from %s.get_config() = %r" % (g.name, now))

    def notfound(self):
        e = expect_api_exception("cluster not found", lambda: self.api.get_cluster("nope"), 404)
        check(e.message and not e.message.lstrip().startswith("{"), "cluster not found",
              "ApiException code 404, message %r (from the JSON body's message)" % (e.message,))
        cluster = self.cluster()
        e = expect_api_exception("service not found", lambda: cluster.get_service("nope"), 404)
        ok("service not found", "ApiException code 404, message %r" % (e.message,))


def main():
    p = argparse.ArgumentParser(description="Check the cm_api walkthrough against a live server.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7180)
    p.add_argument("--user", default="admin")
    p.add_argument("--password", default="admin")
    p.add_argument("--cluster", default="Cluster 1")
    p.add_argument("--hdfs", default="HDFS-1", help="name of the HDFS service")
    p.add_argument("--spark", default="SPARK-1", help="name of the Spark service")
    p.add_argument("--api-version", type=int, default=19, help="the version= given to ApiResource")
    p.add_argument("--timeout", type=int, default=180, help="seconds to wait for each command")
    p.add_argument("--only", default="", help="comma-separated sections to run: " + ",".join(SECTIONS))
    args = p.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()] or SECTIONS
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        p.error("unknown section(s) %s; the sections are %s" % (", ".join(unknown), ",".join(SECTIONS)))

    walk = Walk(args)
    for section in [s for s in SECTIONS if s in only]:
        out("== %s" % section)
        try:
            getattr(walk, section)()
        except CheckFailed as e:
            out("FAIL %s" % e)
            sys.exit(1)
        except ApiException as e:
            traceback.print_exc()
            out("FAIL %s: unexpected ApiException code %s: %s" % (section, e.code, e.message))
            sys.exit(1)
        except Exception as e:
            traceback.print_exc()
            out("FAIL %s: unexpected %s: %s" % (section, type(e).__name__, e))
            sys.exit(1)
    out("CM_API WALKTHROUGH PASSED (%s)" % ",".join(s for s in SECTIONS if s in only))


if __name__ == "__main__":
    main()
