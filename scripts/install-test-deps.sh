#!/usr/bin/env bash
# Installs the system programs the tests talk to: a real Dovecot (IMAP + POP3), Redis,
# HAProxy, fail2ban (only fail2ban-regex and fail2ban-client -t are used: where services start
# on install, Debian's package also starts its daemon with the sshd jail), real POP3 clients,
# and Chromium (the consent pages' browser test drives it headless with playwright-core; no
# browser is downloaded). Debian/Ubuntu; run as root or with sudo.
set -euo pipefail
PACKAGES=(dovecot-imapd dovecot-pop3d redis-server haproxy fail2ban mpop fetchmail getmail6 curl openssl python3 chromium)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-test-deps: all present (${PACKAGES[*]})"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-test-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
# The image may forbid starting services on install; the tests start their own private ones.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
