# Drover with the sample app, from this source tree:
#   docker build -t drover .
#   docker run --rm -p 8000:8000 -p 9180:9180 drover            # the sample app; /metrics, /healthz, /readyz on 9180
#   docker run --rm -v $PWD/app:/app drover -c /app/app.conf     # your own service: arguments go to drover
# Stage 1 runs the ordinary Maven build (tests skipped: they run in CI, and several need root and cgroups that a
# build container lacks) and unpacks the release archive it makes; stage 2 is a Java 17 runtime and that directory.

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
# Only the modules the archive holds (-pl distribution -am): not the examples or the integration tests.
RUN mvn -B -ntp -DskipTests -pl distribution -am package \
 && mkdir /opt/drover \
 && tar -xzf distribution/target/drover-*.tar.gz -C /opt/drover --strip-components=1

# Debian's OpenJDK 17 JRE: the runtime the project's tests run on. Headless: no GUI libraries.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 drover \
 && useradd --system --uid 10001 --gid drover --home-dir /var/lib/drover --create-home --shell /usr/sbin/nologin drover
COPY --from=build /opt/drover /opt/drover
ENV PATH=/opt/drover/bin:$PATH
# The user's home holds what Drover writes with default settings: the sample's pidfile and control socket
# (run/, relative to here), the AppCDS archives (~/.cache/drover) and the leak reports (~/.local/state/drover).
WORKDIR /var/lib/drover
# Numeric, so that Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 10001:10001
# 8000: the service; 9180: /metrics, /healthz and /readyz (off unless --metrics-bind or drover.metrics.bind).
EXPOSE 8000 9180
# TERM is Drover's graceful stop: stop accepting, drain the workers for up to drover.graceful-timeout, exit 0.
STOPSIGNAL SIGTERM
# Exec form, and bin/drover execs java: the master JVM is PID 1 and gets the runtime's signals itself. The kernel
# gives PID 1 no default action for a signal it does not handle, so TERM (graceful stop) and INT (quick stop) work
# because Drover handles them; so do HUP, TTIN, TTOU, USR1 and WINCH (docs/signals.md). It reaps its own workers. An
# app whose workers start processes of their own can add `docker run --init` (tini): it reaps every orphan and
# passes the signals on to Drover unchanged.
ENTRYPOINT ["/opt/drover/bin/drover"]
CMD ["-c", "/opt/drover/config/sample.conf", "-b", "0.0.0.0:8000", "--metrics-bind", "0.0.0.0:9180"]
