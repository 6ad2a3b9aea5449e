#!/usr/bin/env bash
# Issue 16's benchmark suite: builds the benchmarks and runs every benchmark and harness, each SDK
# figure with its baseline measured in the same run, then prints one markdown table (row, baseline,
# SDK, ratio or figure, target, met or missed, allocation per operation).
#
# Usage, from the repository root:
#   llm-gateway-benchmarks/run-all.sh [results-dir]        # default llm-gateway-benchmarks/target/run-all
#   JAVA_HOME=/path/to/jdk-25 llm-gateway-benchmarks/run-all.sh   # the JDK 25 column
# JAVA_HOME (or the java on PATH) runs; Maven builds with BUILD_JAVA_HOME if set, else JAVA_HOME.
# Extra Maven flags: MVN_FLAGS="-o".
# About 9-10 minutes on 2 cores, build included (the Spring example host is built and measured too:
# its JVM is warmed until its JIT is done). The JMH JSON files and the harnesses' figures stay in the
# results directory; `java -cp … dev.llmgateway.benchmarks.Report <dir> [<dir of a JDK 25 run>]` prints
# the table again (with a second directory, one table with both runs side by side).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-llm-gateway-benchmarks/target/run-all}"
classpath_file="llm-gateway-benchmarks/target/classpath.txt"
spring_classpath_file="examples-spring/target/classpath.txt"

echo "# Building the benchmarks and the Spring example (tests skipped)" >&2
# dependency:build-classpath runs in every module of the reactor; the relative output file is each
# module's own target/classpath.txt, its runtime classpath (the sibling modules as the jars just
# packaged). The Spring example host runs in a JVM of its own, on its own classpath (Spring Boot's
# dependency management), so it is built beside the benchmarks, not on their classpath.
JAVA_HOME="${BUILD_JAVA_HOME:-${JAVA_HOME:-}}" mvn -B -q -ntp ${MVN_FLAGS:-} -pl llm-gateway-benchmarks,examples-spring -am package \
  org.apache.maven.plugins:maven-dependency-plugin:3.9.0:build-classpath \
  -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true \
  -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=runtime

java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
"$java" -version 2>&1 | head -1 >&2
exec "$java" -cp "llm-gateway-benchmarks/target/classes:$(cat "$classpath_file")" \
  -Dgatewayhop.spring.classpath="$PWD/examples-spring/target/classes:$(cat "$spring_classpath_file")" \
  dev.llmgateway.benchmarks.RunAll "$out"
