#!/bin/sh
# Three messages per seeded mailbox, written as Maildir files (Dovecot indexes them on first login).
set -eu
for user in alice carol; do
  dir=/srv/mail/$user
  mkdir -p "$dir/new" "$dir/cur" "$dir/tmp"
  for n in 1 2 3; do
    printf 'From: sender%s@example.org\r\nTo: %s@imap.example\r\nSubject: IMAP-backed message %s for %s\r\nMessage-ID: <seed-%s-%s@imap.example>\r\nDate: Mon, 30 Nov 2026 09:0%s:00 +0000\r\n\r\nSeeded by deploy/compose/dovecot/seed.sh.\r\n' \
      "$n" "$user" "$n" "$user" "$user" "$n" "$n" > "$dir/new/17646000$n.seed$n.stack"
  done
done
chown -R mail:mail /srv/mail
