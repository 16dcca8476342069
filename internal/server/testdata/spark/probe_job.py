# A PySpark job for the end-to-end tests that fails on purpose, after
# reporting whether it can see another run's workload secret.
import os
import sys

print("secret visible: %s" % os.path.exists("/etc/dex/secrets/db/password"), flush=True)
sys.stderr.write("probe: failing on purpose\n")
sys.exit(3)
