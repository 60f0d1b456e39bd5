package dev.drover.sample;

import com.typesafe.config.Config;
import dev.drover.worker.api.DroverApp;
import dev.drover.worker.api.WorkerContext;
import io.netty.channel.ChannelHandler;

/**
 * The sample service: a greeting plus planted faults (a leak, a hang, a crash, a slow request) that exercise the
 * supervisor the way a misbehaving production service would. Settings live under the {@code sample} root key.
 */
public final class SampleApp implements DroverApp {

    private WorkerContext context;
    private String greeting;

    @Override
    public void start(WorkerContext context) throws InterruptedException {
        Config settings = context.section("sample");
        if (settings.getBoolean("fail-on-start")) {
            throw new IllegalStateException("sample.fail-on-start = true: refusing to start (a worker that cannot boot)");
        }
        this.context = context;
        this.greeting = settings.getString("greeting");
        Thread.sleep(settings.getDuration("start-delay").toMillis()); // a slow boot, for boot-timeout
    }

    @Override
    public ChannelHandler newRequestHandler() {
        return new SampleHandler(context, greeting);
    }
}
