/**
 * Deterministic simulation testing ({@code vsocksim chaos}, {@code docs/reliability.md}): seeded runs of a
 * host and two guests on manual work queues and virtual clocks, with faults (transport resets, memory
 * pressure, pauses, device replugs, signals, credit-violating peers) and a shrinker that cuts a failing
 * schedule down to the steps that matter.
 *
 * <ul>
 *   <li>{@link io.vsocksim.chaos.ChaosRun}: one run: the scheduler, the invariants checked after every
 *       step, the leak checks at the end.</li>
 *   <li>{@code ChaosFaults}: the faults a step may inject; {@code ChaosConn}: one connection and the bytes
 *       each way.</li>
 *   <li>{@link io.vsocksim.chaos.ChaosShrink}: a failing seed's schedule, minimised.</li>
 * </ul>
 *
 * <p>A program on top of the user floor: its processes are {@code io.vsocksim.user.UserProcess}es making
 * the C calls by descriptor, and it reaches the machines' work queues and clocks through
 * {@code io.vsocksim.sim.internal}. Not exported.
 */
package io.vsocksim.chaos;
