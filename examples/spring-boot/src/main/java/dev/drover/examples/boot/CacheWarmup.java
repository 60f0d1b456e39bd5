package dev.drover.examples.boot;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.stereotype.Component;

/**
 * A startup task such as real services run after the context is up (filling a cache): it delays the end of
 * SpringApplication.run by example.warmup-ms, while the web server is already started.
 */
@Component
public class CacheWarmup implements ApplicationRunner {

    private static final Logger LOG = LoggerFactory.getLogger(CacheWarmup.class);

    private final long warmupMillis;

    public CacheWarmup(@Value("${example.warmup-ms:500}") long warmupMillis) {
        this.warmupMillis = warmupMillis;
    }

    @Override
    public void run(ApplicationArguments args) throws InterruptedException {
        Thread.sleep(warmupMillis);
        LOG.info("cache warmed up in {} ms", warmupMillis);
    }
}
