#!/bin/sh
# Run by `bentoml containerize` while building the image (as root): a folder the service user
# owns for the durable prediction-log spool, so a volume mounted there keeps unflushed rows.
set -e
mkdir -p /var/lib/digitify
chown bentoml:bentoml /var/lib/digitify 2>/dev/null || chmod 0777 /var/lib/digitify
