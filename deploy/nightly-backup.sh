#!/bin/sh
# docker-compose.yml's `backup` service (installed in the image as graphsvc-nightly-backup): every night at
# $GRAPHSVC_BACKUP_AT (HH:MM, the container's clock: UTC unless TZ is set), `graphsvc backup` into
# $GRAPHSVC_BACKUP_DIR keeping the newest $GRAPHSVC_BACKUP_KEEP, then `graphsvc audit verify`.
# GRAPHSVC_BACKUP_AT=now: one backup now, then exit (its status is the backup's, then the check's).
# A failed night is said on stderr (`docker compose logs backup`) and tried again the next night.
set -u
AT="${GRAPHSVC_BACKUP_AT:-02:15}"
KEEP="${GRAPHSVC_BACKUP_KEEP:-14}"
DIR="${GRAPHSVC_BACKUP_DIR:-/backups}"

if [ ! -d "$DIR" ] || [ ! -w "$DIR" ]; then
    echo "graphsvc-nightly-backup: $DIR is not a folder this user (uid $(id -u)) can write;" \
         "on the host: sudo chown $(id -u):$(id -g) on the folder mounted there" >&2
    exit 1
fi

once() {
    graphsvc backup "$DIR" --keep "$KEEP" && graphsvc audit verify
}

if [ "$AT" = now ]; then
    once
    exit $?
fi

while :; do
    now=$(date +%s)
    next=$(date -d "$AT" +%s 2>/dev/null) || {
        echo "graphsvc-nightly-backup: GRAPHSVC_BACKUP_AT=$AT is not a time of day (HH:MM)" >&2
        exit 2
    }
    [ "$next" -gt "$now" ] || next=$(date -d "tomorrow $AT" +%s)
    echo "graphsvc-nightly-backup: next backup $(date -d "@$next" '+%Y-%m-%d %H:%M %Z') into $DIR (keeping $KEEP)"
    sleep $((next - now))
    once || echo "graphsvc-nightly-backup: the backup failed (exit $?); trying again the next night" >&2
done
