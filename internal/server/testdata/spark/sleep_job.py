# A job that runs until it is killed.
import time

print("SLEEPING", flush=True)
time.sleep(600)
