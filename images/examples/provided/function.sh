# The handler script the bootstrap loads for _HANDLER=function.handler: each function gets the event as $1 and
# prints the response on stdout; what it writes on stderr goes to the function's log.
handler () {
  EVENT_DATA=$1
  echo "$EVENT_DATA" 1>&2
  echo "{\"message\":\"Hello from a shell runtime\",\"requestId\":\"$REQUEST_ID\",\"event\":$EVENT_DATA}"
}
