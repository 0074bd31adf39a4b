package io.vsocksim.user;

/**
 * What a java.net call ended with, for comparing a JDK TCP socket with the vsock face: the class and
 * message of what it threw, or {@link #RETURNED} for no exception.
 */
record Outcome(Class<?> type, String message) {
    /** A call that threw nothing. */
    static final Outcome RETURNED = new Outcome(Void.class, "returned");

    /** A call body that may throw. */
    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }

    /** Runs {@code body} and records how it ended. */
    static Outcome of(Body body) {
        try {
            body.run();
            return RETURNED;
        } catch (Exception e) {
            return new Outcome(e.getClass(), e.getMessage());
        }
    }

    /** A step that returns a value or throws. */
    @FunctionalInterface
    interface Step {
        Object run() throws Exception;
    }

    /** What {@code s} did, as a line to compare: "= value", or "ExceptionClass: message". */
    static String describe(Step s) {
        try {
            return "= " + s.run();
        } catch (Exception e) {
            return e.getClass().getName() + ": " + e.getMessage();
        }
    }

    /** The outcome of throwing {@code type} with {@code message}. */
    static Outcome thrown(Class<? extends Exception> type, String message) {
        return new Outcome(type, message);
    }

    /** True for the outcome of a call that returned. */
    boolean returned() {
        return this.equals(RETURNED);
    }

    /**
     * Spins until {@code t} is inside one of {@code frames} ({@code "SimpleClassName.method"}), a point
     * after which the JDK's close() and the face's both reach the blocked call. No time is involved:
     * the test's {@code @Timeout} bounds the wait (by interrupting it).
     */
    static void awaitInside(Thread t, String... frames) throws InterruptedException {
        for (;;) {
            if (Thread.interrupted()) {
                throw new InterruptedException("still waiting for " + t.getName() + " to enter " + String.join(" or ", frames));
            }
            for (StackTraceElement f : t.getStackTrace()) {
                String cls = f.getClassName();
                String name = cls.substring(cls.lastIndexOf('.') + 1) + "." + f.getMethodName();
                for (String want : frames) {
                    if (name.equals(want)) {
                        return;
                    }
                }
            }
            Thread.onSpinWait();
        }
    }
}
