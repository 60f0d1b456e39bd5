#!/bin/sh
# Builds the spike agent (not part of the Maven reactor): target/spike-agent.jar, its jnr jars in target/lib.
set -eu
cd "$(dirname "$0")"
rm -rf target && mkdir -p target/classes target/lib
for a in com/github/jnr/jnr-posix/3.1.20/jnr-posix-3.1.20 com/github/jnr/jnr-ffi/2.2.17/jnr-ffi-2.2.17 \
         com/github/jnr/jffi/1.3.13/jffi-1.3.13 com/github/jnr/jffi/1.3.13/jffi-1.3.13-native \
         com/github/jnr/jnr-constants/0.10.4/jnr-constants-0.10.4 com/github/jnr/jnr-a64asm/1.0.0/jnr-a64asm-1.0.0 \
         com/github/jnr/jnr-x86asm/1.0.2/jnr-x86asm-1.0.2 org/ow2/asm/asm/9.7.1/asm-9.7.1 \
         org/ow2/asm/asm-commons/9.7.1/asm-commons-9.7.1 org/ow2/asm/asm-tree/9.7.1/asm-tree-9.7.1 \
         org/ow2/asm/asm-analysis/9.7.1/asm-analysis-9.7.1 org/ow2/asm/asm-util/9.7.1/asm-util-9.7.1; do
  cp "$HOME/.m2/repository/$a.jar" target/lib/
done
javac -d target/classes --add-exports java.base/jdk.internal.org.objectweb.asm=ALL-UNNAMED \
  -cp "$(ls target/lib/*.jar | tr '\n' :)" $(find src -name '*.java')
{ echo "Premain-Class: spike.agent.SpikeAgent"; echo "Class-Path: $(cd target && ls lib/*.jar | tr "\n" " ")"; } > target/MANIFEST.MF
jar cfm target/spike-agent.jar target/MANIFEST.MF -C target/classes .
