package io.vsocksim.user;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/**
 * Every {@code ```java} block of README.md, compiled as shown and run, so that what a reader pastes
 * works. The conventions the README keeps (and states):
 * <ul>
 *   <li>each block is a whole source file of the unnamed package: its imports, then one top-level
 *       class, compiled alone against the test classpath;</li>
 *   <li>a class with {@code public static void main(String[])} is run, and prints exactly the lines
 *       its {@code // prints: X} comments give, in order (none if it has none);</li>
 *   <li>a class with {@code @Test} methods is run on the JUnit Platform, and every test must pass;</li>
 *   <li>any other class is compiled only.</li>
 * </ul>
 */
class ReadmeExamplesTest {
    private static final Path README = Path.of("README.md");
    /** The sample consumer project's test: the README's first example, word for word. */
    private static final Path SAMPLE_TEST = Path.of("src/it/consumer/src/test/java/HelloVsockTest.java");
    private static final Pattern CLASS = Pattern.compile("^(?:public\\s+)?(?:final\\s+)?class\\s+(\\w+)", Pattern.MULTILINE);
    private static final Pattern PRINTS = Pattern.compile("// prints: (.*)$", Pattern.MULTILINE);

    @TempDir
    Path work;

    @TestFactory
    @Timeout(300)
    Stream<DynamicTest> shouldCompileAndRunEveryJavaBlockOfTheReadme() throws IOException {
        List<String> blocks = javaBlocks(Files.readString(README));
        assertThat(blocks).hasSizeGreaterThanOrEqualTo(8);
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < blocks.size(); i++) {
            String source = blocks.get(i);
            Matcher m = CLASS.matcher(source);
            assertThat(m.find()).as("README java block %d declares a top-level class:%n%s", i + 1, source).isTrue();
            String name = m.group(1);
            int n = i + 1;
            tests.add(DynamicTest.dynamicTest("README block " + n + ": " + name, () -> compileAndRun(n, name, source)));
        }
        return tests.stream();
    }

    @Test
    void shouldShipTheReadmesFirstExampleInTheSampleProject() throws IOException {
        assertThat(Files.readString(SAMPLE_TEST)).isEqualTo(javaBlocks(Files.readString(README)).get(0));
    }

    @Test
    void shouldNameTheVersionThisBuildMakesInTheDependencySnippet() throws IOException {
        String version = System.getProperty("vsocksim.pomVersion");
        assertThat(version).as("the pom's version, passed by Surefire").isNotBlank();
        assertThat(Files.readString(README)).contains("  <artifactId>vsocksim</artifactId>\n  <version>" + version + "</version>");
    }

    /** The text of each {@code ```java} ... {@code ```} block, in order, each line ending in a newline. */
    static List<String> javaBlocks(String markdown) {
        List<String> blocks = new ArrayList<>();
        StringBuilder current = null;
        for (String line : markdown.split("\n", -1)) {
            if (current == null && line.equals("```java")) {
                current = new StringBuilder();
            } else if (current != null && line.equals("```")) {
                blocks.add(current.toString());
                current = null;
            } else if (current != null) {
                current.append(line).append('\n');
            }
        }
        assertThat(current).as("an unclosed ```java block").isNull();
        return blocks;
    }

    private void compileAndRun(int n, String name, String source) throws Exception {
        Path dir = Files.createDirectories(work.resolve("block" + n));
        Path file = dir.resolve(name + ".java");
        Files.writeString(file, source);
        compile(file, dir);
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            Class<?> c = loader.loadClass(name);
            if (source.contains("@Test")) {
                Events tests = EngineTestKit.engine("junit-jupiter").selectors(selectClass(c)).execute().testEvents();
                assertThat(tests.started().count()).as("tests of README block %d", n).isPositive();
                assertThat(tests.failed().list()).as("failed tests of README block %d", n).isEmpty();
                assertThat(tests.succeeded().count()).isEqualTo(tests.started().count());
            }
            Method main = mainOf(c);
            if (main != null) {
                assertThat(run(main)).as("what README block %d prints", n).isEqualTo(expectedOutput(source));
            }
        }
    }

    private static void compile(Path file, Path out) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, UTF_8)) {
            List<String> options = List.of("-classpath", testClasspath(), "-d", out.toString(), "-proc:none",
                    "--release", "17");
            boolean ok = javac.getTask(null, files, diagnostics, options, null, files.getJavaFileObjects(file)).call();
            StringBuilder errors = new StringBuilder();
            for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                if (d.getKind() == Diagnostic.Kind.ERROR) {
                    errors.append("\n  line ").append(d.getLineNumber()).append(": ").append(d.getMessage(Locale.ROOT));
                }
            }
            assertThat(errors.toString()).as("compiling " + file.getFileName()).isEmpty();
            assertThat(ok).isTrue();
        }
    }

    /** The classpath the tests run with (Surefire passes it in a property; its own is a manifest jar). */
    private static String testClasspath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    private static Method mainOf(Class<?> c) {
        try {
            Method m = c.getMethod("main", String[].class);
            return Modifier.isStatic(m.getModifiers()) ? m : null;
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    /** Runs {@code main} with standard output captured; returns the lines it printed. */
    private static List<String> run(Method main) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream original = System.out;
        try (PrintStream capture = new PrintStream(bytes, true, UTF_8)) {
            System.setOut(capture);
            main.invoke(null, (Object) new String[0]);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception x ? x : e;
        } finally {
            System.setOut(original);
        }
        String printed = bytes.toString(UTF_8);
        return printed.isEmpty() ? List.of() : List.of(printed.split("\n"));
    }

    private static List<String> expectedOutput(String source) {
        List<String> lines = new ArrayList<>();
        Matcher m = PRINTS.matcher(source);
        while (m.find()) {
            lines.add(m.group(1).strip());
        }
        return lines;
    }
}
