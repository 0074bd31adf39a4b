package io.vsocksim.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Captures what named Logback loggers log during one test, at a level the test sets, and puts every
 * logger back as it was afterwards (level, additivity, appenders), so the quiet default of
 * {@code logback-test.xml} holds for every other test. The captured events do not reach the console.
 *
 * <pre>
 *   &#64;RegisterExtension final LogCapture log = new LogCapture();
 *   log.capture(Level.DEBUG, LoggerNames.AF_VSOCK);
 *   ...
 *   assertThat(log.lines()).containsExactly(LogCapture.line(Level.DEBUG, LoggerNames.AF_VSOCK, "m: ..."));
 * </pre>
 */
public final class LogCapture implements AfterEachCallback {
    /** One captured event: its level, logger name and formatted message. */
    public record Line(Level level, String logger, String message) {
        @Override
        public String toString() {
            return level + " " + logger + " " + message;
        }
    }

    private record Saved(Logger logger, Level level, boolean additive) {
    }

    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final List<Saved> saved = new ArrayList<>();

    /** Logs the loggers {@code names} (and their descendants) at {@code level} into this capture. */
    public LogCapture capture(Level level, String... names) {
        if (!appender.isStarted()) {
            appender.start();
        }
        for (String name : names) {
            Logger l = (Logger) LoggerFactory.getLogger(name);
            saved.add(new Saved(l, l.getLevel(), l.isAdditive()));
            l.setLevel(level);
            l.setAdditive(false);
            l.addAppender(appender);
        }
        return this;
    }

    /** Every line captured so far, oldest first. */
    public List<Line> lines() {
        List<Line> out = new ArrayList<>();
        // AppenderBase.doAppend holds the appender's monitor while it adds.
        synchronized (appender) {
            for (ILoggingEvent e : appender.list) {
                out.add(new Line(e.getLevel(), e.getLoggerName(), e.getFormattedMessage()));
            }
        }
        return out;
    }

    /** The captured lines of {@code logger} only, oldest first. */
    public List<Line> lines(String logger) {
        List<Line> out = new ArrayList<>();
        for (Line l : lines()) {
            if (l.logger().equals(logger)) {
                out.add(l);
            }
        }
        return out;
    }

    /** Forgets what was captured so far. */
    public void clear() {
        synchronized (appender) {
            appender.list.clear();
        }
    }

    /** A line as {@link #lines()} reports it. */
    public static Line line(Level level, String logger, String message) {
        return new Line(level, logger, message);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        for (int i = saved.size() - 1; i >= 0; i--) {
            Saved s = saved.get(i);
            s.logger().detachAppender(appender);
            s.logger().setLevel(s.level());
            s.logger().setAdditive(s.additive());
        }
        saved.clear();
        appender.stop();
    }
}
