# Shared by scripts/run and tests/ops/test_worker_stop.py: stop a process the way qcluster must
# be stopped, as deploy/switchboard-worker.service does with KillMode=mixed.
#
# stop_process PID [SECONDS]: SIGTERM to PID alone (qcluster stops its own worker processes; a
# TERM to its whole group kills them under it and it then waits forever), wait up to SECONDS
# (default 10) for it to exit, then SIGKILL whatever is left of its process group. PID must lead
# a process group of its own (start it with setsid).
stop_process() {
  local pid="$1" tries=$(( ${2:-10} * 5 ))
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 "$tries"); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
}
