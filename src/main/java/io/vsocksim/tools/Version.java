package io.vsocksim.tools;

import io.vsocksim.LinuxVersion;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * The text of {@code --version}: the project's version and the kernel it models. The project version
 * comes from {@code version.properties}, which the build fills in from pom.xml, so it is the same in
 * the jar and in {@code target/classes}.
 */
final class Version implements IVersionProvider {
    private static final String RESOURCE = "version.properties";

    @Override
    public String[] getVersion() {
        return new String[] {"vsocksim " + project(), "models the AF_VSOCK sockets of Linux " + LinuxVersion.PINNED};
    }

    /**
     * The project version.
     *
     * @return the version in pom.xml, or {@code "unknown"} when the classes were built without Maven's
     *     resource filtering
     */
    static String project() {
        Properties p = new Properties();
        try (InputStream in = Version.class.getResourceAsStream(RESOURCE)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            return "unknown";
        }
        String v = p.getProperty("version", "");
        return v.isEmpty() || v.startsWith("${") ? "unknown" : v;
    }
}
