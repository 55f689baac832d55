#!/bin/sh
# ENTRYPOINT of lambkin's images, following AWS's base-image convention: the one argument (CMD, or a function's
# ImageConfig.Command) is the handler. Under a Lambda service (ours on the host, or AWS's) AWS_LAMBDA_RUNTIME_API
# is set and the bootstrap talks to it directly; without it, as after a plain `docker run`, the in-image emulator
# serves the Runtime API and the RIE-compatible invoke endpoint and runs the bootstrap itself.
#
# The custom-runtime image (lambkin/provided) marks itself with /var/lambkin/custom-runtime: there the handler is
# optional (a user's bootstrap may not need one) and the bootstrap is the user's, found where Lambda looks for it.
# The language images run their own /var/runtime/bootstrap, as AWS's do.

CUSTOM_RUNTIME_MARKER=/var/lambkin/custom-runtime
# The emulator's own Node.js: private in lambkin/provided, so the user's PATH holds no language runtime.
if [ -x /var/lambkin/node ]; then EMULATOR_NODE=/var/lambkin/node; else EMULATOR_NODE=node; fi

usage() {
  if [ -e "$CUSTOM_RUNTIME_MARKER" ]; then
    echo "usage: /lambda-entrypoint.sh [HANDLER]  (at most one argument, the handler, e.g. CMD [\"function.handler\"]); got $#" >&2
  else
    echo "usage: /lambda-entrypoint.sh HANDLER  (exactly one argument, the handler, e.g. CMD [\"index.handler\"]); got $#" >&2
  fi
  exit 1
}

if [ -e "$CUSTOM_RUNTIME_MARKER" ]; then
  [ $# -le 1 ] || usage "$@"
  # Lambda's order for a custom runtime's bootstrap; the emulator searches the same places itself.
  BOOTSTRAP=
  for candidate in "${LAMBDA_TASK_ROOT:-/var/task}/bootstrap" /opt/bootstrap "${LAMBDA_RUNTIME_DIR:-/var/runtime}/bootstrap"; do
    if [ -e "$candidate" ]; then BOOTSTRAP=$candidate; break; fi
  done
else
  [ $# -eq 1 ] || usage "$@"
  BOOTSTRAP="${LAMBDA_RUNTIME_DIR:-/var/runtime}/bootstrap"
fi

if [ $# -eq 1 ]; then export _HANDLER="$1"; fi

if [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
  # With no bootstrap found, the emulator's own search fails fast with a message naming every place it looked.
  if [ -n "$BOOTSTRAP" ]; then
    exec "$EMULATOR_NODE" /var/runtime/emulator.mjs "$BOOTSTRAP"
  else
    exec "$EMULATOR_NODE" /var/runtime/emulator.mjs
  fi
fi

if [ -z "$BOOTSTRAP" ]; then
  echo "lambda-entrypoint: no bootstrap found in ${LAMBDA_TASK_ROOT:-/var/task}, /opt or ${LAMBDA_RUNTIME_DIR:-/var/runtime}" >&2
  exit 1
fi

# lambkin serve mounts each environment's telemetry log pipe here (src/environments/telemetry-pipe.ts): like AWS's
# sandbox, the runtime gets it as fd 3, named in _LAMBDA_TELEMETRY_LOG_FD, and a runtime that uses it writes each
# log record there as one frame. The host holds the FIFO open before the container starts, so this open does not
# wait; `command` keeps a failed open from ending the shell: the runtime then logs to stdout as without a pipe.
TELEMETRY_PIPE=/var/lambkin/telemetry/log
if [ -p "$TELEMETRY_PIPE" ] && command exec 3>"$TELEMETRY_PIPE"; then
  export _LAMBDA_TELEMETRY_LOG_FD=3
fi
# A language runtime's function sees Lambda's variables only (AWS's recorded nodejs24.x environment, with its PWD and
# SHLVL=0): not the HOME and HOSTNAME Docker adds, nor the base image's NODE_VERSION. A custom runtime's bootstrap
# keeps them.
if [ ! -e "$CUSTOM_RUNTIME_MARKER" ]; then
  unset HOME HOSTNAME NODE_VERSION
  export SHLVL=0
fi
exec "$BOOTSTRAP"
