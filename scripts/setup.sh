#!/usr/bin/env bash
# Installs what `make run` and `make test` need into the project: Go
# modules; a Python venv (.venv) with the Spark runtime (pyspark) and the
# real clients the compatibility tests drive (and, for the tests, Airflow with
# the CDE operator in build/airflow-venv); the example Spark jar built
# from examples/spark; the Hadoop HDFS daemons' jars from Maven Central
# (build/hadoop); pinned Go tools (.tools/bin). Quick when all is there.
# With --test (make test) it also needs Python 2.7 for the cm_api client;
# without (make run) it goes on without it.
set -euo pipefail
for_tests=false
[ "${1:-}" = --test ] && for_tests=true
cd "$(dirname "$0")/.."

fail() { printf 'setup: %s\n' "$*" >&2; exit 1; }

# Go: the version go.mod asks for (the go command fetches a newer toolchain itself if allowed).
command -v go >/dev/null || fail "Go is not installed. Install Go 1.26 or newer from https://go.dev/dl/ and run again."
need_go=$(awk '/^go /{print $2}' go.mod)
have_go=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$need_go" "$have_go" | sort -V | head -1)" != "$need_go" ]; then
  fail "Go $need_go or newer is needed, this machine has $have_go. Install it from https://go.dev/dl/."
fi

# Java 17 or newer, for Spark.
command -v java >/dev/null || fail "Java is not installed; Spark needs Java 17 or newer (apt install openjdk-17-jdk-headless)."
java_major=$(java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}')
[ "${java_major:-0}" -ge 17 ] 2>/dev/null ||
  fail "Spark needs Java 17 or newer; 'java -version' says $(java -version 2>&1 | head -1). Install openjdk-17-jdk-headless or put a newer java first on PATH."
command -v javac >/dev/null || fail "javac is not installed; the example Spark jar is compiled with it (apt install openjdk-17-jdk-headless)."

# Python 3.11+ with venv: pyspark 4.1 needs 3.10+, the clients of the tests 3.9+.
command -v python3 >/dev/null || fail "python3 is not installed. Install Python 3.11 or newer (apt install python3 python3-venv)."
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' ||
  fail "Python 3.11 or newer is needed, this machine has $(python3 --version 2>&1)."
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv || fail "could not create a venv; install the venv module (apt install python3-venv)."
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements-runtime.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing the Spark runtime and the test clients into .venv (pyspark is about 450 MB, once)"
  env -u PYSPARK_HADOOP_VERSION -u PYSPARK_HIVE_VERSION \
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-runtime.txt -r requirements-dev.txt ||
    fail "pip could not install requirements-runtime.txt and requirements-dev.txt (is PyPI reachable?)"
  echo "$want" > "$stamp"
fi

# The example Spark jar, compiled against the installed Spark jars.
spark_home=$(.venv/bin/python -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))') ||
  fail "pyspark is not importable from .venv; remove .venv and run make setup again."
jar=build/spark-examples.jar
jar_stamp=build/.spark-examples.sha256
jar_want=$(cat requirements-runtime.txt $(find examples/spark/src -name '*.java' | sort) | sha256sum | cut -d' ' -f1)
if [ ! -f "$jar" ] || [ "$(cat "$jar_stamp" 2>/dev/null)" != "$jar_want" ]; then
  echo "setup: building $jar"
  rm -rf build/spark-examples-classes && mkdir -p build/spark-examples-classes
  javac -d build/spark-examples-classes -cp "$spark_home/jars/*" $(find examples/spark/src -name '*.java') ||
    fail "could not compile examples/spark"
  jar cf "$jar" -C build/spark-examples-classes . || fail "could not build $jar"
  echo "$jar_want" > "$jar_stamp"
fi

# The Hadoop HDFS daemons (NameNode, DataNode) for HDFS clusters: jars from Maven
# Central into build/hadoop/lib, their web UI resources into build/hadoop/resources.
hadoop_pom=runtimes/hadoop/pom.xml
hadoop_stamp=build/hadoop/.pom.sha256
hadoop_want=$(sha256sum < "$hadoop_pom" | cut -d' ' -f1)
if [ ! -d build/hadoop/lib ] || [ "$(cat "$hadoop_stamp" 2>/dev/null)" != "$hadoop_want" ]; then
  command -v mvn >/dev/null || fail "Maven is needed to fetch Hadoop's jars (apt install maven)."
  echo "setup: fetching the Hadoop HDFS jars from Maven Central into build/hadoop (about 55 MB, once)"
  mkdir -p build
  hadoop_tmp=$(mktemp -d build/.hadoop.XXXXXX) && chmod 755 "$hadoop_tmp"
  if ! mvn -q -B -f "$hadoop_pom" dependency:copy-dependencies dependency:unpack@webapps \
    -DoutputDirectory="$PWD/$hadoop_tmp/lib" -Dherd.hadoop.resources="$PWD/$hadoop_tmp/resources" > "$hadoop_tmp.log" 2>&1; then
    cat "$hadoop_tmp.log" >&2; rm -rf "$hadoop_tmp" "$hadoop_tmp.log"
    fail "Maven could not fetch the jars named in $hadoop_pom (is Maven Central reachable?)"
  fi
  rm -f "$hadoop_tmp.log"
  hadoop_jar=$(cd "$hadoop_tmp/lib" && ls hadoop-hdfs-[0-9]*.jar 2>/dev/null | head -1)
  if [ -z "$hadoop_jar" ] || [ ! -d "$hadoop_tmp/resources/webapps/hdfs" ]; then
    rm -rf "$hadoop_tmp"
    fail "Maven left no hadoop-hdfs jar or no webapps/hdfs; check $hadoop_pom"
  fi
  hadoop_version=${hadoop_jar#hadoop-hdfs-}
  echo "${hadoop_version%.jar}" > "$hadoop_tmp/VERSION"
  echo "$hadoop_want" > "$hadoop_tmp/.pom.sha256"
  rm -rf build/hadoop && mv "$hadoop_tmp" build/hadoop
fi

# The real CDE Airflow operator with Airflow itself (about 300 MB), for the
# tests only, in a venv of its own: its pins would clash with .venv's.
if $for_tests; then
  af_stamp=build/airflow-venv/.requirements.sha256
  af_want=$(sha256sum < requirements-airflow.txt | cut -d' ' -f1)
  if [ "$(cat "$af_stamp" 2>/dev/null)" != "$af_want" ]; then
    echo "setup: installing Airflow and the CDE Airflow operator into build/airflow-venv (once)"
    rm -rf build/airflow-venv && mkdir -p build
    python3 -m venv build/airflow-venv || fail "could not create build/airflow-venv"
    build/airflow-venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-airflow.txt ||
      fail "pip could not install requirements-airflow.txt (is PyPI reachable?)"
    echo "$af_want" > "$af_stamp"
  fi
fi

# The real cm_api client (Python 2.7 only) for the Cloudera Manager API
# compatibility tests, pinned in requirements-py2.txt, installed into build/py2
# (use it as PYTHONPATH=build/py2; build/py2/.python names the interpreter).
# The interpreter: $HERD_PYTHON2, else python2.7 on PATH, else pyenv's 2.7.18.
is_py27() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (2, 7) else 1)' >/dev/null 2>&1; }
pyenv_py27="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")/versions/2.7.18/bin/python2.7"
if [ -n "${HERD_PYTHON2:-}" ]; then
  py2=$HERD_PYTHON2
  is_py27 "$py2" || fail "HERD_PYTHON2=$py2 is not a working Python 2.7 interpreter."
elif is_py27 python2.7; then
  py2=python2.7 # a pyenv shim counts only if it runs (pyenv selects 2.7 here)
elif is_py27 "$pyenv_py27"; then
  py2=$pyenv_py27
elif $for_tests; then
  fail "the cm_api compatibility tests need Python 2.7 (pyenv install 2.7.18), or HERD_PYTHON2 set to a python2.7."
else
  py2=""
  echo "setup: no Python 2.7, so no cm_api client (only the tests need it: pyenv install 2.7.18)"
fi
if [ -n "$py2" ]; then
  py2=$("$py2" -c 'import sys; print(sys.executable)')
  py2_stamp=build/.py2.sha256
  py2_want=$( (cat requirements-py2.txt; echo "$py2") | sha256sum | cut -d' ' -f1)
  if [ ! -d build/py2/cm_api ] || [ "$(cat "$py2_stamp" 2>/dev/null)" != "$py2_want" ]; then
    echo "setup: installing the cm_api client for Python 2.7 ($py2) into build/py2"
    if ! "$py2" -m pip --version >/dev/null 2>&1; then
      "$py2" -m ensurepip --user >/dev/null 2>&1 && "$py2" -m pip --version >/dev/null 2>&1 ||
        fail "$py2 has no pip and '$py2 -m ensurepip --user' could not add it; install pip for that Python 2.7 (pyenv install 2.7.18 comes with it)."
    fi
    rm -rf build/py2 && mkdir -p build
    env -u PIP_USER -u PIP_TARGET -u PIP_PREFIX -u PYTHONPATH -u PYTHONHOME \
      "$py2" -m pip install --quiet --quiet --disable-pip-version-check \
        --no-deps --require-hashes --target build/py2 -r requirements-py2.txt ||
      fail "pip for Python 2.7 could not install requirements-py2.txt into build/py2 (is PyPI reachable?)"
    PYTHONPATH=build/py2 "$py2" -c 'import cm_api.api_client' ||
      fail "cm_api was installed into build/py2 but '$py2' cannot import cm_api.api_client from there"
    echo "$py2" > build/py2/.python
    echo "$py2_want" > "$py2_stamp"
  fi
fi

# Go modules and pinned tools.
go mod download || fail "could not download Go modules (is the Go module proxy reachable?)"
golangci_version=v2.15.0
if [ "$(.tools/bin/golangci-lint version --short 2>/dev/null)" != "${golangci_version#v}" ]; then
  echo "setup: building golangci-lint $golangci_version into .tools/bin (about a minute, once)"
  GOBIN="$PWD/.tools/bin" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$golangci_version" ||
    fail "could not build golangci-lint"
fi
