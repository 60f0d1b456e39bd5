package dev.drover.examples.boot;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The service's endpoints: a greeting naming the version and the pid, a slow request, a memory leak and a request
 * that never finishes, the kinds of behaviour a process supervisor has to cope with.
 */
@RestController
public class ExampleController {

    private final String name;
    private final String version;

    public ExampleController(@Value("${example.name:spring-boot}") String name,
                             @Value("${example.version:1}") String version) {
        this.name = name;
        this.version = version;
    }

    @GetMapping("/hello")
    public String hello() {
        return "hello from " + name + " " + version + " pid " + ProcessHandle.current().pid() + "\n";
    }

    @GetMapping("/version")
    public String version() {
        return version + "\n";
    }

    @GetMapping("/sleep")
    public String sleep(@RequestParam(name = "ms", defaultValue = "200") long ms) throws InterruptedException {
        Thread.sleep(ms);
        return "slept " + ms + " ms\n";
    }

    @GetMapping("/leak")
    public String leak(@RequestParam(name = "kb", defaultValue = "1024") int kb) {
        long total = LeakedOrder.leak(kb);
        return "leaked " + kb + " KiB, " + total + " KiB held\n";
    }

    /** A stuck request: holds its thread until the thread is interrupted, which only a shutdown does. */
    @GetMapping("/hang")
    public String hang() {
        try {
            Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return "interrupted\n";
    }
}
