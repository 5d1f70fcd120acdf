#!/usr/bin/env bash
# Checks the sample WAR's welcome page in a real headless Chromium (Debian's `chromium`) against
# Portico Express with its bundled sample in both models, and refreshes the screenshots in docs/
# (express-home.png, express-welcome.png). Not part of CI: it needs chromium (apt-get install
# chromium) and takes about half a minute. Build first: mvn -B -o -pl express -am package -DskipTests
set -euo pipefail
cd "$(dirname "$0")/../.."
jar=express/target/portico-express.jar
[ -f "$jar" ] || { echo "no $jar: mvn -B -o -pl express -am package -DskipTests" >&2; exit 2; }
command -v chromium >/dev/null || { echo "needs Debian's chromium: apt-get install chromium" >&2; exit 2; }

work=$(mktemp -d)
express=""
chrome=""
cleanup() {
  [ -n "$chrome" ] && kill "$chrome" 2>/dev/null && wait "$chrome" 2>/dev/null || true
  [ -n "$express" ] && kill "$express" 2>/dev/null && wait "$express" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

java -jar "$jar" --port 0 >"$work/express.log" 2>&1 &
express=$!
for _ in $(seq 1 600); do
  url=$(sed -n 's/^Portico Express listening on \(http:[^ ]*\)$/\1/p' "$work/express.log")
  [ -n "$url" ] && break
  kill -0 "$express" 2>/dev/null || { cat "$work/express.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "Express did not start" >&2; cat "$work/express.log" >&2; exit 1; }
echo "Portico Express at $url (pid $express)"

sandbox=()
[ "$(id -u)" = 0 ] && sandbox=(--no-sandbox)   # Chromium refuses its sandbox as root
chromium --headless=new "${sandbox[@]}" --disable-gpu --no-first-run --user-data-dir="$work/chrome" \
  --remote-debugging-address=127.0.0.1 --remote-debugging-port=0 about:blank >"$work/chrome.log" 2>&1 &
chrome=$!
for _ in $(seq 1 300); do
  [ -s "$work/chrome/DevToolsActivePort" ] && break
  sleep 0.1
done
port=$(head -1 "$work/chrome/DevToolsActivePort")
echo "Chromium $(chromium --version 2>/dev/null | awk '{print $2}') DevTools on 127.0.0.1:$port"; echo

java docs/tools/WelcomePageCheck.java "$port" "$url" "$express" docs
