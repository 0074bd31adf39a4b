package io.vsocksim.tools;

import io.vsocksim.testsuite.VsockTestCommand;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.reflect.Constructor;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code vsocksim} command line: one picocli command whose subcommands are the {@code vsock_test}
 * port, the {@code rx-zerocopy} benchmark, {@code serve} (a guest behind a Unix socket), {@code chaos}
 * (seeded deterministic simulation runs) and the ring smoke job.
 *
 * <p>Every command shares one convention: {@code --opt value} and {@code --opt=value} both work,
 * {@code --help} and {@code --version} print to standard output and exit 0, and a bad option or value
 * prints one line naming it, then the usage, on standard error and exits 2.
 */
@Command(name = "vsocksim", scope = ScopeType.INHERIT, mixinStandardHelpOptions = true, versionProvider = Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        subcommands = {VsockTestCommand.class, RxZerocopyCommand.class, ServeCommand.class, ChaosCommand.class, ScaleCommand.class, RingSmoke.class},
        synopsisSubcommandLabel = "COMMAND",
        description = {"A kernel-faithful simulator of Linux AF_VSOCK sockets over virtio, vhost and loopback.",
            "Run 'vsocksim COMMAND --help' for a command's options."},
        optionListHeading = "%nOptions:%n",
        commandListHeading = "%nCommands:%n")
public final class Main implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    private Main() {
    }

    /**
     * Entry point; exits with the command's status.
     *
     * @param args the command line, subcommand first
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs a command line and returns its exit status, without exiting the JVM.
     *
     * @param args the command line, subcommand first
     * @param out where the command's results, {@code --help} and {@code --version} go
     * @param err where errors and progress go
     * @return the exit status: 0 on success, 2 for bad usage, else the command's own (see its help)
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new Main(), new StreamsFactory(out, err));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setParameterExceptionHandler(Main::badUsage);
        return cl.execute(args);
    }

    /** {@code vsocksim} without a command is a usage error. */
    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "Missing command");
    }

    /**
     * One line that names what was wrong, then the command's synopsis (the full help is one
     * {@code --help} away), on standard error.
     */
    private static int badUsage(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        String name = cmd.getCommandSpec().qualifiedName();
        err.println(name + ": " + ex.getMessage());
        UnmatchedArgumentException.printSuggestions(ex, err);
        err.print(cmd.getHelp().fullSynopsis());
        err.println("Try '" + name + " --help' for more information.");
        err.flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    /**
     * Creates each command with this run's streams when it has an {@code (PrintStream out, PrintStream
     * err)} constructor, everything else with picocli's default factory.
     */
    private static final class StreamsFactory implements CommandLine.IFactory {
        private final PrintStream out;
        private final PrintStream err;

        StreamsFactory(PrintStream out, PrintStream err) {
            this.out = out;
            this.err = err;
        }

        @Override
        public <K> K create(Class<K> cls) throws Exception {
            Constructor<K> withStreams;
            try {
                withStreams = cls.getDeclaredConstructor(PrintStream.class, PrintStream.class);
            } catch (NoSuchMethodException e) {
                return CommandLine.defaultFactory().create(cls);
            }
            withStreams.setAccessible(true);
            return withStreams.newInstance(out, err);
        }
    }
}
