package io.vsocksim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Style guide §6.3: every {@link Linux} citation in the compiled main classes names a symbol that the
 * cited file of the pinned kernel ({@link LinuxVersion#PINNED}) defines, and each kernel symbol has
 * one home. The symbols come from {@code src/test/resources/linux-6.12.117-symbols.txt}, which
 * {@code scripts/linux-symbols.sh} generates from the kernel source for exactly the files cited, so
 * no kernel tree is needed here.
 *
 * <p>One home means one annotated element (class, method, constructor or field) per {@code (file,
 * symbol)}, with no exception: a helper that does part of a kernel function is not annotated (its
 * Javadoc says which part), a class does not repeat the citation of its method, and a struct is
 * modelled by one class.
 */
class LinuxCitationsTest {
    private static final String SYMBOLS = "/linux-6.12.117-symbols.txt";

    /** One annotation on one element. */
    record Citation(String file, String fn, String element) {
        String key() {
            return file + ":" + fn;
        }
    }

    private static List<Citation> citations;
    private static Map<String, Set<String>> symbols;

    @BeforeAll
    static void scan() throws IOException, URISyntaxException {
        citations = scanMainClasses();
        symbols = readSymbols();
        Set<String> unique = citations.stream().map(Citation::key).collect(Collectors.toSet());
        long resolved = unique.stream().filter(k -> {
            int at = k.indexOf(':');
            return symbols.getOrDefault(k.substring(0, at), Set.of()).contains(k.substring(at + 1));
        }).count();
        System.out.printf("@Linux citations: %d cited, %d unique, %d resolved in %d kernel files%n",
                citations.size(), unique.size(), resolved,
                citations.stream().map(Citation::file).distinct().count());
    }

    @Test
    void shouldFindTheCitationsOfTheMainClasses() {
        assertThat(LinuxVersion.PINNED).isEqualTo("6.12.117");
        assertThat(Linux.class.getAnnotation(java.lang.annotation.Retention.class).value())
                .isEqualTo(java.lang.annotation.RetentionPolicy.RUNTIME);
        assertThat(citations).hasSizeGreaterThan(400);
    }

    @Test
    void shouldResolveEveryCitationWhenLookedUpInTheSymbolList() {
        List<String> unresolved = new ArrayList<>();
        for (Citation c : citations) {
            Set<String> defined = symbols.get(c.file());
            if (defined == null) {
                unresolved.add(c.element() + ": " + c.file() + " is not in 6.12.117 (or the list is stale: "
                        + "run scripts/linux-symbols.sh)");
            } else if (!defined.contains(c.fn())) {
                unresolved.add(c.element() + ": " + c.file() + " defines no " + c.fn());
            }
        }
        assertThat(unresolved).isEmpty();
    }

    @Test
    void shouldCiteEachKernelSymbolOnOneElementOnly() {
        Map<String, List<String>> homes = new TreeMap<>();
        for (Citation c : citations) {
            homes.computeIfAbsent(c.key(), k -> new ArrayList<>()).add(c.element());
        }
        Map<String, List<String>> twice = new TreeMap<>();
        homes.forEach((k, v) -> {
            if (v.size() > 1) {
                twice.put(k, v);
            }
        });
        assertThat(twice).isEmpty();
    }

    @Test
    void shouldListOnlyTheFilesThatAreCitedWhenReadingTheSymbolList() {
        Set<String> cited = citations.stream().map(Citation::file).collect(Collectors.toCollection(TreeSet::new));
        Set<String> stale = new TreeSet<>(symbols.keySet());
        stale.removeAll(cited);
        // A file no longer cited: rerun scripts/linux-symbols.sh, or delete its lines.
        assertThat(stale).isEmpty();
    }

    private static List<Citation> scanMainClasses() throws IOException, URISyntaxException {
        Path classes = Path.of(Linux.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertThat(classes).as("main classes directory").isDirectory();
        List<String> names;
        try (Stream<Path> files = Files.walk(classes)) {
            names = files.map(p -> classes.relativize(p).toString())
                    .filter(s -> s.endsWith(".class") && !s.endsWith("module-info.class")
                            && !s.endsWith("package-info.class"))
                    .map(s -> s.substring(0, s.length() - ".class".length()).replace('/', '.').replace('\\', '.'))
                    .sorted()
                    .collect(Collectors.toList());
        }
        List<Citation> out = new ArrayList<>();
        ClassLoader loader = LinuxCitationsTest.class.getClassLoader();
        for (String name : names) {
            Class<?> c;
            try {
                c = Class.forName(name, false, loader);
            } catch (ClassNotFoundException e) {
                throw new AssertionError("cannot load " + name, e);
            }
            add(out, c, c.getName());
            for (Method m : c.getDeclaredMethods()) {
                add(out, m, describe(m, m.getParameterTypes()));
            }
            for (Constructor<?> k : c.getDeclaredConstructors()) {
                add(out, k, describe(k, k.getParameterTypes()));
            }
            for (Field f : c.getDeclaredFields()) {
                add(out, f, c.getName() + "#" + f.getName());
            }
        }
        return out;
    }

    private static void add(List<Citation> out, AnnotatedElement e, String element) {
        for (Linux l : e.getAnnotationsByType(Linux.class)) {
            out.add(new Citation(l.file(), l.fn(), element));
        }
    }

    private static String describe(Member m, Class<?>[] params) {
        String name = m instanceof Constructor ? "<init>" : m.getName();
        return m.getDeclaringClass().getName() + "#" + name + Arrays.stream(params).map(Class::getSimpleName)
                .collect(Collectors.joining(", ", "(", ")"));
    }

    private static Map<String, Set<String>> readSymbols() throws IOException {
        Map<String, Set<String>> out = new TreeMap<>();
        try (InputStream in = LinuxCitationsTest.class.getResourceAsStream(SYMBOLS)) {
            assertThat(in).as(SYMBOLS).isNotNull();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                int tab = line.indexOf('\t');
                out.computeIfAbsent(line.substring(0, tab), k -> new HashSet<>()).add(line.substring(tab + 1));
            }
        }
        return out;
    }
}
