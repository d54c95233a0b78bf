#!/usr/bin/env bash
# Installs the outside programs the tests use as independent peers (npm run peers; .ci/run uses it too).
# On Debian and Ubuntu with apt-get; elsewhere it names what to install. Without them `npm test` skips the
# tests that need them and says so at the end; with MAILTLS_REQUIRE_PEERS=1 a missing one is a failure.
# Keep in step with PEERS in test/helpers/peers.ts (a test checks that every peer is listed here).
set -euo pipefail

# program:Debian package (several joined by +)
PEERS="openssl:openssl curl:curl gnutls-cli:gnutls-bin danetool:gnutls-bin faketime:faketime sslscan:sslscan
testssl:testssl.sh script:bsdutils python3:python3 pebble:pebble pebble-challtestsrv:pebble certbot:certbot
lego:lego chromium:chromium postfix:postfix postmap:postfix dovecot:dovecot-imapd+dovecot-pop3d
doveadm:dovecot-imapd+dovecot-pop3d"

missing=()
packages=()
for entry in $PEERS; do
  program=${entry%%:*}
  package=${entry#*:}
  package=${package//+/ }
  if ! command -v "$program" >/dev/null 2>&1; then
    missing+=("$program")
    for one in $package; do
      case " ${packages[*]-} " in
        *" $one "*) ;;
        *) packages+=("$one") ;;
      esac
    done
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "test peers: all installed"
  exit 0
fi
echo "test peers missing: ${missing[*]}"

if ! command -v apt-get >/dev/null 2>&1; then
  echo "no apt-get here: install these with your package manager (names vary; on Debian: ${packages[*]})," >&2
  echo "for example: brew install gnutls sslscan testssl libfaketime curl openssl python3 (macOS)" >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "apt-get needs root: run as root: apt-get install ${packages[*]}" >&2
    exit 1
  fi
fi
echo "installing: ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself on install; the tests write their own configuration.
if command -v debconf-set-selections >/dev/null 2>&1; then
  echo "postfix postfix/main_mailer_type select No configuration" | ${sudo[@]+"${sudo[@]}"} debconf-set-selections
fi
${sudo[@]+"${sudo[@]}"} apt-get update -qq
${sudo[@]+"${sudo[@]}"} apt-get install -y -qq "${packages[@]}" >/dev/null

still=()
for program in "${missing[@]}"; do
  command -v "$program" >/dev/null 2>&1 || still+=("$program")
done
if [ ${#still[@]} -gt 0 ]; then
  echo "still missing after apt-get install: ${still[*]}" >&2
  exit 1
fi
echo "test peers: all installed"
