package dev.drover.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/kubernetes/ against the drover.conf its ConfigMap carries: the numbers that must agree (grace period,
 * memory limit, probe port, the image's user) do. The manifests' schema is checked apart (README).
 */
class KubernetesManifestsTest {

    private static final Path DIR = DroverProcess.HOME.resolve("deploy/kubernetes");
    /** What the README's memory section counts for the master itself. */
    private static final long MASTER_BYTES = 64L << 20;
    /** What the README says a worker needs outside its heap: -Xmx at most hard-limit minus this. */
    private static final long OFF_HEAP_BYTES = 150L << 20;

    private final Map<String, Object> deployment = yaml("deployment.yaml");
    private final Config drover = droverConf();

    @Test
    void theGracePeriodCoversTheDelayAndTheDrain() {
        Duration drain = drover.getDuration("graceful-timeout").plus(drover.getDuration("shutdown-delay"));
        long grace = ((Number) podSpec().get("terminationGracePeriodSeconds")).longValue();
        assertTrue(grace > drain.toSeconds(), "terminationGracePeriodSeconds " + grace + " <= " + drain);
    }

    @Test
    void theMemoryLimitHoldsEveryWorkerAtItsHardLimitDuringARecycle() {
        long hard = drover.getBytes("memory.hard-limit");
        long needed = (drover.getLong("workers") + drover.getLong("max-surge")) * hard + MASTER_BYTES;
        Map<String, Object> resources = map(container().get("resources"));
        long limit = quantity((String) map(resources.get("limits")).get("memory"));
        assertTrue(limit >= needed, "memory limit " + limit + " < (workers + max-surge) x hard-limit + master "
                + needed);
        assertEquals(limit, quantity((String) map(resources.get("requests")).get("memory")), "request = limit");
    }

    @Test
    void theWorkersHeapEndsBeforeTheHardLimit() {
        String xmx = drover.getStringList("worker-jvm-options").stream().filter(o -> o.startsWith("-Xmx"))
                .findFirst().orElseThrow();
        assertTrue(quantity(xmx.substring(4)) <= drover.getBytes("memory.hard-limit") - OFF_HEAP_BYTES, xmx);
    }

    @Test
    void theProbesAskTheMetricsPort() {
        int metricsPort = Integer.parseInt(drover.getString("metrics.bind").replaceAll(".*:", ""));
        List<Map<String, Object>> ports = list(container().get("ports"));
        Map<String, Object> metrics = ports.stream().filter(p -> "metrics".equals(p.get("name"))).findFirst()
                .orElseThrow();
        assertEquals(metricsPort, metrics.get("containerPort"));
        assertEquals(Map.of("path", "/readyz", "port", "metrics"), probe("readinessProbe"));
        assertEquals(Map.of("path", "/healthz", "port", "metrics"), probe("livenessProbe"));
    }

    @Test
    void thePodRunsAsTheImagesUser() throws IOException {
        Matcher user = Pattern.compile("(?m)^USER (\\d+):(\\d+)$")
                .matcher(Files.readString(DroverProcess.HOME.resolve("Dockerfile")));
        assertTrue(user.find(), "the Dockerfile's USER uid:gid");
        Map<String, Object> security = map(podSpec().get("securityContext"));
        assertEquals(true, security.get("runAsNonRoot"));
        assertEquals(Integer.parseInt(user.group(1)), security.get("runAsUser"));
        assertEquals(Integer.parseInt(user.group(2)), security.get("runAsGroup"));
    }

    private Map<String, Object> probe(String name) {
        return map(map(container().get(name)).get("httpGet"));
    }

    private Map<String, Object> podSpec() {
        return map(map(map(deployment.get("spec")).get("template")).get("spec"));
    }

    private Map<String, Object> container() {
        return list(podSpec().get("containers")).get(0);
    }

    private static Config droverConf() {
        String text = (String) map(yaml("configmap.yaml").get("data")).get("drover.conf");
        // ${DROVER_HOME} is the launcher's: left unresolved, it is not what these checks read.
        return ConfigFactory.parseString(text).resolve(ConfigResolveOptions.noSystem().setAllowUnresolved(true))
                .getConfig("drover");
    }

    private static Map<String, Object> yaml(String file) {
        try {
            return new Yaml().load(Files.readString(DIR.resolve(file)));
        } catch (IOException e) {
            throw new AssertionError("cannot read " + DIR.resolve(file), e);
        }
    }

    /** A Kubernetes memory quantity (Mi, Gi, M, G, k, Ki or bytes), or a JVM size (m, g, k), in bytes. */
    static long quantity(String value) {
        Matcher m = Pattern.compile("(\\d+)([KMGkmg]i?)?").matcher(value);
        assertTrue(m.matches(), "not a size: " + value);
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "" : m.group(2);
        boolean binary = unit.endsWith("i") || unit.equals("m") || unit.equals("g") || unit.equals("k");
        int power = unit.isEmpty() ? 0 : "KMG".indexOf(Character.toUpperCase(unit.charAt(0))) + 1;
        long base = binary ? 1024 : 1000;
        for (int i = 0; i < power; i++) {
            n *= base;
        }
        return n;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object o) {
        return (List<Map<String, Object>>) o;
    }
}
