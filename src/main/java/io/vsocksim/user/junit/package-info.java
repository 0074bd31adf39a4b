/**
 * A JUnit 5 extension that gives each test a fresh simulated host and guests and fails a test that
 * leaks: {@link io.vsocksim.user.junit.VsockSim} on a test class or method, or a
 * {@link io.vsocksim.user.junit.VsockSimExtension} field with {@code @RegisterExtension}.
 *
 * <pre>{@code
 * @VsockSim(guests = {3, 4})
 * class MyTest {
 *     @Test
 *     void guestToHost(Simulation sim, Host host, @Cid(3) Guest guest) throws Exception {
 *         try (SocketPair p = sim.connectedPair(guest, host, SOCK_STREAM)) {
 *             p.client().send(ByteBuffer.wrap(new byte[] {1}), 0);
 *             assertEquals(1, p.server().recv(ByteBuffer.allocate(8), 0));
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p>JUnit Jupiter is an optional dependency of vsocksim: a project that uses this package has it
 * already (as {@code junit-jupiter} in test scope); one that does not never gets it.
 */
package io.vsocksim.user.junit;
