/**
 * The {@code vsocksim} command line ({@link io.vsocksim.tools.Main}, run by the {@code ./vsocksim}
 * script, which builds the project first when its sources changed). One picocli command with these
 * subcommands:
 * <ul>
 *   <li>{@code vsock-test}: the port of the kernel's vsock_test ({@code io.vsocksim.testsuite}), with
 *       its options and output; {@code --transport=loopback} runs it on CID 1.</li>
 *   <li>{@code rx-zerocopy}: the zerocopy receive RFC's {@code rx_zerocopy} utility, copy against
 *       zerocopy receive, with the counters that explain the times and JDK TCP and Unix-domain channels
 *       as baselines ({@code Baselines}, {@code PageRingCeiling}); not upstream.</li>
 *   <li>{@code serve}: a host and a guest whose vsock is exposed on a Unix socket as Firecracker exposes
 *       a microVM's, running a workload in the guest (an NIO echo server, {@code GuestEcho}, or the
 *       vsock_test server role) until interrupted.</li>
 *   <li>{@code chaos}: seeded deterministic simulation runs, one line per failing seed.</li>
 *   <li>{@code scale}: many guests on one host, and what each costs (start, connect, round trip,
 *       memory, threads).</li>
 *   <li>{@code smoke}: the virtqueue smoke job, guest driver to vhost through split rings.</li>
 * </ul>
 * Every command shares one convention: {@code --opt value} and {@code --opt=value} both work,
 * {@code --help} and {@code --version} print to standard output and exit 0, and a bad option prints one
 * line naming it and the usage on standard error and exits 2. Logging goes through Logback
 * ({@code config/logback-cli.xml}), which only the command line brings; the library logs through SLF4J.
 */
package io.vsocksim.tools;
