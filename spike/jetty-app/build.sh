#!/bin/sh
# Builds the spike's plain Jetty 12 app (not part of the Maven reactor): target/classes + target/lib.
set -eu
cd "$(dirname "$0")"
rm -rf target && mkdir -p target/classes target/lib
for a in org/eclipse/jetty/jetty-server/12.1.13/jetty-server-12.1.13 org/eclipse/jetty/jetty-http/12.1.13/jetty-http-12.1.13 \
         org/eclipse/jetty/jetty-io/12.1.13/jetty-io-12.1.13 org/eclipse/jetty/jetty-util/12.1.13/jetty-util-12.1.13 \
         org/slf4j/slf4j-api/2.0.17/slf4j-api-2.0.17; do
  cp "$HOME/.m2/repository/$a.jar" target/lib/
done
javac -d target/classes -cp "$(ls target/lib/*.jar | tr '\n' :)" $(find src -name '*.java')
