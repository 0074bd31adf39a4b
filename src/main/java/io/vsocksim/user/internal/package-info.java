/**
 * What the module's own code reaches inside the user floor; not exported.
 *
 * <ul>
 *   <li>{@link io.vsocksim.user.internal.UserInternals}: a process's credentials, descriptor table and
 *       address space, a socket object's kernel socket, and the calls that stand in for faulting user
 *       memory and for MSG_ZEROCOPY from pinned user pages. {@code io.vsocksim.user} installs it when
 *       {@code UserProcess} is initialised, as the JDK's {@code SharedSecrets} bridges {@code java.lang}
 *       and its internal callers: the members stay package-private there and nothing is reflected on.</li>
 *   <li>{@link io.vsocksim.user.internal.JdkErrors}: the JDK's errno-to-exception table, shared by the
 *       java.net face and the NIO face.</li>
 * </ul>
 *
 * <p>The only package cycle of the user floor besides {@code user <-> user.nio} is this one
 * ({@code user <-> user.internal}): the bridge is installed by the exported side. {@code PackageLayersTest}
 * declares both.
 */
package io.vsocksim.user.internal;
