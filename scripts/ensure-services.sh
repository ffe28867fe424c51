#!/usr/bin/env bash
# Starts PostgreSQL, Redis and Mosquitto on this machine if one is not answering.
# Development machines start them before a session; CI and fresh machines may not.
set -u
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 1 50); do port_open "$1" && return 0; sleep 0.2; done; echo "service on port $1 did not start" >&2; return 1; }

if ! port_open 5432; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  wait_port 5432 || exit 1
fi
if ! port_open 6379; then
  echo "starting Redis"
  # Append-only file, as in docker-compose.yml: BullMQ's job schedulers and queued jobs survive a restart.
  # (The platform also re-creates its schedulers when Redis comes back empty; see services/src/job-schedulers.ts.)
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly yes --appendfsync everysec \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port 6379 || exit 1
fi
if ! port_open 1883; then
  echo "starting Mosquitto"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
  wait_port 1883 || exit 1
fi
exit 0
