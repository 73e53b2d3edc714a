#!/usr/bin/env bash
# Sets up radplug on a fresh machine: Python environment (.venv) with radplug and its
# dependencies, a Java check, and Nextflow (pinned). Idempotent: a second run is quick.
#
#   ./setup.sh            set up only
#   RADPLUG_VENV=DIR      where to create the environment (default: .venv in the repository)
#   NXF_VER               Nextflow version (default: the pinned one below)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${RADPLUG_VENV:-$REPO/.venv}"
NXF_PINNED="24.10.0"          # the newest release whose runtime jars all resolve from Maven Central
NXF_VER="${NXF_VER:-$NXF_PINNED}"
NXF_RUNTIME="${RADPLUG_NXF_RUNTIME:-$HOME/.radplug/nextflow-$NXF_VER}"
TORCH_SPEC="${RADPLUG_TORCH_SPEC:-torch==2.9.1}"

say() { printf '[radplug setup] %s\n' "$*" >&2; }
die() { printf '[radplug setup] ERROR: %s\n' "$*" >&2; exit 1; }

# --- Python ---------------------------------------------------------------------------------
PY="${PYTHON:-python3}"
command -v "$PY" >/dev/null || die "python3 not found: install Python >= 3.10"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "Python >= 3.10 needed ($("$PY" --version))"
if [ ! -x "$VENV/bin/python" ]; then
  say "creating Python environment in $VENV"
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.radplug-installed"
if [ ! -f "$stamp" ] || [ "$REPO/pyproject.toml" -nt "$stamp" ]; then
  say "installing radplug and its dependencies (PyTorch is a large download the first time; PyRadiomics builds from source, ~30 s)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q "$TORCH_SPEC"
  "$VENV/bin/python" -m pip install -q -e "$REPO[test,radiomics]"   # radiomics: PyRadiomics for EXTRACT
  touch "$stamp"
fi

# --- Java -------------------------------------------------------------------------------------
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
command -v "$JAVA" >/dev/null || die "Java not found: install a JDK 11..21 (e.g. apt-get install openjdk-17-jre-headless)"
jver=$("$JAVA" -version 2>&1 | awk -F'"' '/version/ {print $2}' | cut -d. -f1)
[ "${jver:-0}" -ge 11 ] || die "Java >= 11 needed (found $jver)"

# --- Nextflow ---------------------------------------------------------------------------------
WRAPPER="$VENV/bin/nextflow"
nf_works() { NXF_OFFLINE=true "$1" -version >/dev/null 2>&1; }

write_wrapper() {   # $1 = command line that starts Nextflow
  cat > "$WRAPPER" <<EOW
#!/usr/bin/env bash
# radplug's Nextflow wrapper: puts this environment's Python (with radplug) first on PATH.
export PATH="$VENV/bin:\$PATH"
export NXF_VER="\${NXF_VER:-$NXF_VER}"
$1
EOW
  chmod +x "$WRAPPER"
}

if [ -x "$WRAPPER" ] && nf_works "$WRAPPER"; then
  :
elif existing=$(command -v nextflow 2>/dev/null) && [ "$existing" != "$WRAPPER" ] && nf_works "$existing"; then
  say "using the nextflow already on PATH: $existing"
  write_wrapper "exec \"$existing\" \"\$@\""
else
  mkdir -p "$NXF_RUNTIME"
  # 1) the official launcher, where it can download its runtime
  if [ ! -x "$NXF_RUNTIME/nextflow" ]; then
    if curl -fsSL --max-time 30 https://get.nextflow.io -o "$NXF_RUNTIME/nextflow.tmp" 2>/dev/null; then
      chmod +x "$NXF_RUNTIME/nextflow.tmp" && mv "$NXF_RUNTIME/nextflow.tmp" "$NXF_RUNTIME/nextflow"
    fi
  fi
  if [ -x "$NXF_RUNTIME/nextflow" ] && NXF_VER="$NXF_VER" NXF_HOME="$NXF_RUNTIME/home" timeout 300 "$NXF_RUNTIME/nextflow" -version >/dev/null 2>&1; then
    say "Nextflow $NXF_VER installed with the official launcher"
    write_wrapper "export NXF_HOME=\"\${NXF_HOME:-$NXF_RUNTIME/home}\"; exec \"$NXF_RUNTIME/nextflow\" \"\$@\""
  else
    # 2) the runtime jars from Maven Central, started through nextflow.cli.Launcher
    say "official launcher cannot download here: resolving io.nextflow:nextflow:$NXF_VER from Maven Central"
    command -v mvn >/dev/null || die "neither the Nextflow launcher could download nor Maven (mvn) is installed"
    if [ ! -f "$NXF_RUNTIME/lib/.complete" ]; then
      tmp=$(mktemp -d)
      cat > "$tmp/pom.xml" <<EOP
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>radplug.local</groupId><artifactId>nextflow-runtime</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>io.nextflow</groupId><artifactId>nextflow</artifactId><version>$NXF_VER</version></dependency>
  </dependencies>
</project>
EOP
      mvn -q -B -f "$tmp/pom.xml" dependency:copy-dependencies -DoutputDirectory="$NXF_RUNTIME/lib" \
        || die "mvn could not resolve io.nextflow:nextflow:$NXF_VER (try NXF_VER=24.10.0)"
      touch "$NXF_RUNTIME/lib/.complete"
      rm -rf "$tmp"
    fi
    opens=""
    for p in java.lang java.io java.nio java.net java.util java.util.concurrent.locks \
             java.util.concurrent.atomic java.nio.file.spi sun.nio.ch sun.nio.fs \
             sun.net.www.protocol.http sun.net.www.protocol.https sun.net.www.protocol.ftp \
             sun.net.www.protocol.file jdk.internal.misc jdk.internal.vm java.util.regex; do
      opens="$opens --add-opens=java.base/$p=ALL-UNNAMED"
    done
    write_wrapper "exec \"$JAVA\" \${NXF_OPTS:-} -Dfile.encoding=UTF-8 -Djava.awt.headless=true -Dcom.sun.security.enableAIAcaIssuers=true$opens -cp \"$NXF_RUNTIME/lib/*\" nextflow.cli.Launcher \"\$@\""
  fi
  nf_works "$WRAPPER" || die "Nextflow does not start: run '$WRAPPER -version' to see why"
fi
say "ready: $("$WRAPPER" -version 2>/dev/null | grep -o 'version [0-9.]*' | head -1) ; Python $("$VENV/bin/python" -c 'import radplug; print(radplug.__version__)' 2>/dev/null || echo '?')"
