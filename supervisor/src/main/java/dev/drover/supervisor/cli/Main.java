package dev.drover.supervisor.cli;

import picocli.CommandLine;

/** The `drover` command: runs the master, checks a configuration, or talks to a running master (`drover ctl`). */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        DroverCommand.arguments = java.util.List.of(args);
        System.exit(DroverCommand.commandLine().execute(args));
    }
}
