#!/bin/sh
# One-shot cluster set-up, run by the `rabbitmq-init` service of docker-compose.yml once every node
# is healthy (and safe to run again at any time: it only adds what is missing).
#
# Why: definitions.json is imported at boot by whichever node boots first, often before its peers
# have joined, and a quorum queue gets replicas only on the nodes that are members when it is
# declared. So chat.persist could start with one replica. This grows every quorum queue to every
# node, then spreads the queue leaders over the nodes.
#
# It also creates one broker account per role, with passwords from the environment (no password is
# written in the repository; definitions.json holds none), and the least permissions each role needs:
#   chat-gateway    publishes durable writes (default exchange → chat.persist) and typing dispatches
#                   (chat.route*); declares, binds and consumes its own queue chat.gw.<server id>
#   chat-persister  consumes chat.persist; publishes dispatches (chat.route*) and dead letters (chat.dlx)
#   chat-admin      administrator (the management UI); services never use it
# The shared topology comes from definitions.json: the services run with DECLARE_TOPOLOGY=false. The
# persister stores only writes published by chat-gateway (PERSIST_WRITERS; RabbitMQ checks user_id).
# Re-running resets the passwords to the environment's and the permissions to these.
#
# Environment: RABBITMQ_NODES (space-separated node names; default the three compose nodes), the
# Erlang cookie (RABBITMQ_ERLANG_COOKIE, or $HOME/.erlang.cookie) shared with the nodes, and
# RABBITMQ_GATEWAY_PASSWORD, RABBITMQ_PERSISTER_PASSWORD, RABBITMQ_ADMIN_PASSWORD (required).
set -eu

for var in RABBITMQ_GATEWAY_PASSWORD RABBITMQ_PERSISTER_PASSWORD RABBITMQ_ADMIN_PASSWORD; do
  eval "value=\${$var:-}"
  if [ -z "$value" ]; then
    echo "rabbitmq-init: $var must be set (see .env.example)" >&2
    exit 1
  fi
done

NODES="${RABBITMQ_NODES:-rabbit@rabbitmq-1 rabbit@rabbitmq-2 rabbit@rabbitmq-3}"
FIRST="${NODES%% *}"
COUNT=$(echo "$NODES" | wc -w)
TIMEOUT="${RABBITMQ_INIT_TIMEOUT:-120}"

echo "rabbitmq-init: waiting for $COUNT running nodes (via $FIRST)"
rabbitmqctl -q -n "$FIRST" await_startup --timeout "$TIMEOUT"
rabbitmqctl -q -n "$FIRST" await_online_nodes "$COUNT" --timeout "$TIMEOUT"

for node in $NODES; do
  echo "rabbitmq-init: quorum queues get a replica on $node"
  rabbitmq-queues -q -n "$FIRST" grow "$node" all --vhost-pattern '.*' --queue-pattern '.*'
done

echo "rabbitmq-init: spreading quorum queue leaders"
rabbitmq-queues -q -n "$FIRST" rebalance quorum --vhost-pattern '.*' --queue-pattern '.*'

# ensure_account <name> <password> <configure> <write> <read>
EXISTING=$(rabbitmqctl -q -n "$FIRST" list_users --formatter json)
ensure_account() {
  if echo "$EXISTING" | grep -q "\"user\":\"$1\""; then
    rabbitmqctl -q -n "$FIRST" change_password "$1" "$2"
  else
    rabbitmqctl -q -n "$FIRST" add_user "$1" "$2"
  fi
  rabbitmqctl -q -n "$FIRST" set_permissions -p / "$1" "$3" "$4" "$5"
  echo "rabbitmq-init: account $1 ready"
}

ROUTE='chat\.route(\..*)?'
GATEWAY_QUEUE='chat\.gw\..*'
# Gateways also read chat.persist.dead: the operator's view lists, requeues and discards dead letters.
ensure_account chat-gateway "$RABBITMQ_GATEWAY_PASSWORD" \
  "^$GATEWAY_QUEUE\$" "^(amq\.default|$GATEWAY_QUEUE|$ROUTE)\$" "^($GATEWAY_QUEUE|$ROUTE|chat\.persist\.dead)\$"
ensure_account chat-persister "$RABBITMQ_PERSISTER_PASSWORD" \
  '^$' "^($ROUTE|chat\.dlx)\$" '^chat\.persist$'
ensure_account chat-admin "$RABBITMQ_ADMIN_PASSWORD" '.*' '.*' '.*'
rabbitmqctl -q -n "$FIRST" set_user_tags chat-admin administrator
if echo "$EXISTING" | grep -q '"user":"guest"'; then
  rabbitmqctl -q -n "$FIRST" delete_user guest
fi

echo "rabbitmq-init: done"
