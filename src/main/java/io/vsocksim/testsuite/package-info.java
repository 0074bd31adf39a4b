/**
 * The port of the kernel's vsock test suite, {@code tools/testing/vsock} of Linux 6.12.117, run against
 * simulated machines: same test names, same order, same IDs, same output, same control protocol.
 *
 * <p><b>How the C files map.</b>
 * <ul>
 *   <li>{@code vsock_test.c}: {@link io.vsocksim.testsuite.VsockTests} is {@code test_cases[]} (IDs 0–25,
 *       then the two reconstructed tests of the zerocopy receive RFC, 26 and 27, marked not upstream);
 *       the test bodies are in {@code StreamTests}, {@code SeqpacketTests} and {@code CreditTests}, named
 *       after the C functions, and {@code main} with its options is
 *       {@link io.vsocksim.testsuite.VsockTestCommand}.</li>
 *   <li>{@code vsock_test_zerocopy.c} and {@code msg_zerocopy_common.c}: {@code ZerocopyTests} (tests 18
 *       and 19).</li>
 *   <li>{@code util.c}: {@link io.vsocksim.testsuite.TestContext} (connect/accept helpers,
 *       {@code send_buf}/{@code recv_buf}, the djb2 hash, {@code struct test_opts}) and
 *       {@link io.vsocksim.testsuite.VsockTestRunner} ({@code run_tests}, the NEXT/SKIP barrier before
 *       every test).</li>
 *   <li>{@code control.c} and {@code timeout.c}: {@link io.vsocksim.testsuite.Control}, a line protocol
 *       whose every read gives up after {@code TIMEOUT} (10 s) with the C suite's "timed out".</li>
 * </ul>
 * Each role is a {@code UserProcess} of its machine and makes the C program's calls by descriptor, with
 * the kernel's return convention; a C {@code exit(EXIT_FAILURE)} is a {@link io.vsocksim.testsuite.TestFailure}
 * carrying the C message.
 *
 * <p><b>Control channel.</b> The two roles synchronise only on control lines, never on time, as in C.
 * By default the channel is an in-process pair of line queues ({@code PipeControl}); with
 * {@code --control-port} it is a real TCP connection ({@code TcpControl}) as the C suite's. SIM: in one
 * process a control line could overtake a packet still in a simulated work queue, which cannot happen
 * between two real kernels, so each end waits until the machines' work queues are idle before it writes
 * ({@code SettlingControl}).
 *
 * <p><b>Placements.</b> {@code vsock-test} runs both roles in one process: by default the client in a
 * guest and the server on the host over the virtio path ({@code VirtioMachines}: guest driver, split
 * virtqueues in guest memory, vhost), with {@code --transport=loopback} both on CID 1 of one machine.
 * {@link io.vsocksim.testsuite.VsockTestServerRole} runs the server role alone, for a client outside the
 * JVM (a guest exposed through {@code vsocksim serve}). Both roles run on real threads and real time,
 * since the suite's own timeouts (SO_RCVTIMEO, poll) are real.
 *
 * <p><b>Deviations.</b> A failing test does not end the run: it is reported with its message, the other
 * role is aborted, and the suite goes on with a fresh control channel. After each test both machines
 * must return to their socket and page counts, or the test fails as a leak.
 */
package io.vsocksim.testsuite;
