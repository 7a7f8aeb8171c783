#!/usr/bin/env bash
# Make sure a system Chromium exists for `make test-browser` / `make gallery`.
#
#   bash tools/ensure_chromium.sh [/path/to/chromium]     (default: /usr/bin/chromium)
#
# Playwright drives this browser through `executable_path`; it never downloads a
# browser of its own (no `playwright install`). When the browser is missing and we
# are root on a system with apt-get (CI: Debian as root), Debian's `chromium` package
# is installed. Otherwise this prints what to do and exits 1.
# A Japanese font (the course's titles and some widget labels carry Japanese terms) is
# installed the same way when none is present; without one the tests still run, but
# screenshots show boxes instead of 勾配, so only a warning is printed then.
set -euo pipefail

chromium="${1:-/usr/bin/chromium}"
can_apt=0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    can_apt=1
fi
apt_updated=0
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    if [ "$apt_updated" = 0 ]; then
        apt-get update -qq
        apt_updated=1
    fi
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ ! -x "$chromium" ]; then
    if [ "$can_apt" = 1 ] && [ "$chromium" = "/usr/bin/chromium" ]; then
        echo "Chromium is missing: installing Debian's chromium package (apt-get install -y chromium) ..."
        apt_install chromium fonts-dejavu-core
        if [ ! -x "$chromium" ]; then
            echo "error: apt-get install chromium finished but $chromium is still missing" >&2
            exit 1
        fi
    else
        cat >&2 <<EOF
error: the browser tests need Chromium at $chromium, and it is not there.
       It can only be installed automatically as root on a system with apt-get (Debian/Ubuntu).
       Install it yourself, e.g.
           sudo apt-get install chromium          (Debian)
       or point the tests at another Chromium-based browser:
           make test-browser CHROMIUM=/path/to/chromium
       (Playwright is used with the system browser only; 'playwright install' is never run.)
EOF
        exit 1
    fi
fi
echo "Chromium: $("$chromium" --version 2>/dev/null || echo "$chromium")"

if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=ja 2>/dev/null | head -n 1)" ]; then
    if [ "$can_apt" = 1 ]; then
        echo "No Japanese font: installing fonts-ipafont-gothic (screenshots would show boxes for 日本語) ..."
        apt_install fonts-ipafont-gothic || echo "warning: could not install fonts-ipafont-gothic" >&2
    else
        echo "warning: no Japanese font installed: screenshots will show boxes instead of Japanese text" >&2
    fi
fi
