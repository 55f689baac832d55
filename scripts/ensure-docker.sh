#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine. These machines ship only the docker client, and CI starts
# from a machine where nothing we started by hand survives, so CI (and anyone else) runs this before the tests.
# Idempotent: an engine that already answers is left alone. It also installs (never starts) Debian's
# docker-registry binary, which the push tests run as their registry.
set -euo pipefail

LOG=${DOCKERD_LOG:-/var/log/lambkin-dockerd.log}
WAIT_SECONDS=${DOCKERD_WAIT_SECONDS:-60}

engine_answers() { docker info >/dev/null 2>&1; }

# Packages' postinst scripts try to start their services; there is no init system here, so forbid that (unless a
# policy is already in place) for as long as this script runs: we start what we need ourselves.
forbid_service_starts() {
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
}

APT_UPDATED=
apt_install() {
  forbid_service_starts
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$APT_UPDATED" ]; then
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    APT_UPDATED=1
  fi
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$@" >/dev/null
}

# The push tests run a real registry: Debian's docker-registry (distribution 2.8), as a child process of the test,
# never as a service. Under CI=true those tests fail when the binary is missing.
if [ ! -x /usr/bin/docker-registry ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "ensure-docker: installing Debian's docker-registry (for the push tests)"
    apt_install docker-registry
    # Should a policy have let its service start anyway, stop it: the tests start their own registries.
    if command -v service >/dev/null 2>&1; then service docker-registry stop >/dev/null 2>&1 || true; fi
  else
    echo "ensure-docker: no /usr/bin/docker-registry and not root; the push tests need it (apt-get install docker-registry)" >&2
  fi
fi

if engine_answers; then
  echo "ensure-docker: engine already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "ensure-docker: no Docker engine and not root; install one (apt-get install docker.io) and start it" >&2
    exit 1
  fi
  echo "ensure-docker: installing Debian's docker.io (its service is not started: dockerd starts below)"
  apt_install docker.io
fi

DOCKERD=$(command -v dockerd)

# A killed process may linger as a zombie until reaped: `kill -0` still succeeds on it, so read its state instead.
# (/proc, so that this needs no procps.)
pid_alive() {
  [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# True when a live dockerd exists (one may still be starting).
dockerd_alive() {
  local status pid
  for status in /proc/[0-9]*/status; do
    if grep -qx 'Name:[[:space:]]*dockerd' "$status" 2>/dev/null; then
      pid=${status#/proc/}; pid=${pid%/status}
      if pid_alive "$pid"; then return 0; fi
    fi
  done
  return 1
}

start_dockerd() {
  # Pid files left by an engine that was killed (a reused machine, a session's end) make dockerd refuse to start,
  # or wait for a containerd that is gone.
  local pidfile
  for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
    if [ -f "$pidfile" ] && ! pid_alive "$(cat "$pidfile")"; then rm -f "$pidfile"; fi
  done
  mkdir -p "$(dirname "$LOG")"
  echo "ensure-docker: starting dockerd (log: $LOG)"
  # setsid + nohup: the engine must outlive this script and the shell that ran it.
  setsid nohup "$DOCKERD" >>"$LOG" 2>&1 </dev/null &
}

# Two tries: the first can fail on leftovers of a killed engine that are cleaned up only as it exits.
starts=0
for ((i = 0; i < WAIT_SECONDS; i++)); do
  if engine_answers; then
    echo "ensure-docker: engine ready after ${i}s ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    exit 0
  fi
  if ! dockerd_alive; then
    if [ "$starts" -ge 2 ]; then
      echo "ensure-docker: dockerd exited while starting" >&2
      break
    fi
    [ "$starts" = 0 ] || echo "ensure-docker: dockerd exited while starting; trying once more"
    start_dockerd
    starts=$((starts + 1))
  elif [ "$i" = 0 ]; then
    echo "ensure-docker: a dockerd is running but not answering yet; waiting"
  fi
  sleep 1
done

echo "ensure-docker: Docker engine did not answer within ${WAIT_SECONDS}s; last lines of $LOG:" >&2
tail -n 30 "$LOG" >&2 || true
exit 1
