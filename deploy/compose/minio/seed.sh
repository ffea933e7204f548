#!/bin/sh
# Runs once in the minio/mc image: creates the bucket and puts two messages under bob's prefix,
# as an inbound pipeline (SES receipt rule, MinIO notification target) would.
set -eu
mc alias set stack http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
mc mb --ignore-existing stack/inbound-mail
for n in 1 2; do
  printf 'From: scanner@example.org\r\nTo: bob@s3.example\r\nSubject: S3-backed message %s\r\nMessage-ID: <seed-s3-%s@s3.example>\r\n\r\nSeeded by deploy/compose/minio/seed.sh.\r\n' "$n" "$n" \
    | mc pipe "stack/inbound-mail/inbound/s3.example/bob/seed-$n.eml"
done
