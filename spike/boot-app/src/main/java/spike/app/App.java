package spike.app;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** An ordinary Spring Boot web app: it binds server.port itself and knows nothing of Drover. */
@SpringBootApplication
@RestController
public class App {
    public static void main(String[] args) {
        SpringApplication.run(App.class, args);
    }

    @GetMapping("/hello")
    public String hello() {
        return "hello from pid " + ProcessHandle.current().pid() + "\n";
    }

    /** Like many services, it warms a cache after the context is up; it takes 2 s. */
    @org.springframework.context.annotation.Bean
    org.springframework.boot.ApplicationRunner warmCache() {
        return args -> Thread.sleep(2000);
    }

    @GetMapping("/uptime")
    public String uptime() {
        return java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime() + "\n";
    }

    @GetMapping("/sleep")
    public String sleep() throws InterruptedException {
        Thread.sleep(3000);
        return "slept in pid " + ProcessHandle.current().pid() + "\n";
    }
}
