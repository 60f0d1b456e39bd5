package dev.drover.supervisor.config;

import java.util.Optional;

/**
 * drover.user and drover.group as configured: the names the workers run under, or empty for the master's own.
 * dev.drover.supervisor.os.Credentials resolves them on this host at start.
 */
public record RunAs(Optional<String> user, Optional<String> group) {

    public static final RunAs MASTERS_OWN = new RunAs(Optional.empty(), Optional.empty());
}
