# Sleeps for argv[1] seconds under spark-submit, then succeeds.
import sys
import time

print("sleeping %s" % sys.argv[1], flush=True)
time.sleep(float(sys.argv[1]))
print("slept", flush=True)
