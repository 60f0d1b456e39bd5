#!/bin/bash
# Spike (issue 12): start time of the Spring Boot app as `java -jar`, extracted, and extracted with Spring's CDS
# archive. Prints Spring's own "process running for" figure (JVM start to ApplicationReadyEvent) per run.
set -eu
cd "$(dirname "$0")"
JAR=boot-app/target/boot-app-1.jar
X=target/cds
RUNS=${RUNS:-3}
run() { # label, java args...
  local label=$1; shift
  for i in $(seq "$RUNS"); do
    local log; log=$(mktemp)
    "$@" --server.port=0 >"$log" 2>&1 & local pid=$!
    for _ in $(seq 600); do grep -q "Started App" "$log" && break; sleep 0.05; done
    kill "$pid"; wait "$pid" 2>/dev/null || true
    echo "$label run $i: $(grep -o 'Started App in [0-9.]* seconds (process running for [0-9.]*)' "$log")"
    rm -f "$log"
  done
}
if [ ! -f $X/app.jsa ]; then
  rm -rf $X && mkdir -p $X
  java -Djarmode=tools -jar $JAR extract --destination $X/app >/dev/null
  # Training run: the context refreshes, then the JVM exits and writes the archive.
  java -XX:ArchiveClassesAtExit=$X/app.jsa -Dspring.context.exit=onRefresh -jar $X/app/boot-app-1.jar >$X/train.log 2>&1 || true
  ls -la $X/app.jsa
fi
run "fat jar      " java -jar $JAR
run "extracted    " java -jar $X/app/boot-app-1.jar
run "extracted+CDS" java -XX:SharedArchiveFile=$X/app.jsa -jar $X/app/boot-app-1.jar
A=-javaagent:agent/target/spike-agent.jar
run "fat jar+agent      " python3 with_listener.py java $A -jar $JAR
run "extracted+CDS+agent" python3 with_listener.py java $A -XX:SharedArchiveFile=$X/app.jsa -jar $X/app/boot-app-1.jar
