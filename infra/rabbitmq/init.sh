#!/bin/sh
# One-shot cluster set-up, run by the `rabbitmq-init` service of docker-compose.yml once every node
# is healthy (and safe to run again at any time: it only adds what is missing).
#
# Why: definitions.json is imported at boot by whichever node boots first, often before its peers
# have joined, and a quorum queue gets replicas only on the nodes that are members when it is
# declared. So chat.persist could start with one replica. This grows every quorum queue to every
# node, then spreads the queue leaders over the nodes.
#
# Environment: RABBITMQ_NODES (space-separated node names; default the three compose nodes), and the
# Erlang cookie (RABBITMQ_ERLANG_COOKIE, or $HOME/.erlang.cookie) shared with the nodes.
set -eu

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
echo "rabbitmq-init: done"
