package io.vsocksim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layer picture of {@code docs/architecture.md}, checked on the code: every main package stands on a
 * named floor, no package depends on a floor above its own, packages that sit side by side on an
 * "independent" floor (the two ring views, the three transports) never meet, and the only package
 * cycles are the two declared ones. A dependency is a type named in a class file (constant pool,
 * descriptors, signatures, annotations) or in an import or qualified name of the source, which also
 * catches compile-time constants that javac inlines.
 */
class PackageLayersTest {
    /** A floor: packages that may use the floors below; "independent" ones may not use each other. */
    record Floor(String name, boolean independent, List<String> packages) {
    }

    private static Floor room(String name, String... pkgs) {
        return new Floor(name, false, List.of(pkgs));
    }

    private static Floor apart(String name, String... pkgs) {
        return new Floor(name, true, List.of(pkgs));
    }

    /** Lowest first. */
    static final List<Floor> FLOORS = List.of(
            room("annotations and version", "io.vsocksim"),
            room("user ABI", "io.vsocksim.uapi"),
            room("memory", "io.vsocksim.mm"),
            room("kernel context", "io.vsocksim.kernel"),
            apart("files; the two views of a ring", "io.vsocksim.fs", "io.vsocksim.virtio", "io.vsocksim.vhost"),
            room("af_vsock", "io.vsocksim.vsock"),
            room("common virtio transport", "io.vsocksim.vsock.virtio"),
            apart("transports", "io.vsocksim.vsock.loopback", "io.vsocksim.vsock.guest", "io.vsocksim.vsock.vhost"),
            room("socket calls", "io.vsocksim.net"),
            room("machines", "io.vsocksim.sim", "io.vsocksim.sim.internal"),
            room("user", "io.vsocksim.user", "io.vsocksim.user.internal", "io.vsocksim.user.nio",
                    "io.vsocksim.user.bridge", "io.vsocksim.user.junit"),
            apart("programs", "io.vsocksim.testsuite", "io.vsocksim.chaos"),
            room("command line", "io.vsocksim.tools"));

    /**
     * The package cycles there are, each inside one floor: an exported package and the unexported one its
     * internals are reached through (installed by the exported side, as the JDK's SharedSecrets), and the
     * java.net face with its NIO face ({@code VsockNet.selectorProvider}).
     */
    static final Set<Set<String>> CYCLES = Set.of(
            Set.of("io.vsocksim.sim", "io.vsocksim.sim.internal"),
            Set.of("io.vsocksim.user", "io.vsocksim.user.internal", "io.vsocksim.user.nio"));

    private static Map<String, Set<String>> deps;

    @BeforeAll
    static void readMainCode() throws IOException {
        deps = new TreeMap<>();
        forEachFile(ModuleApiTest.classes(), ".class", (pkg, p) -> {
            Set<String> to = deps.computeIfAbsent(pkg, k -> new TreeSet<>());
            for (String cls : referencedClasses(Files.readAllBytes(p))) {
                to.add(packageOf(cls.substring(0, Math.max(0, cls.lastIndexOf('/')))));
            }
        });
        // The sources too: a constant javac inlined leaves no trace in the class file.
        Path sources = Path.of("src/main/java");
        if (Files.isDirectory(sources)) {
            forEachFile(sources, ".java", (pkg, p) ->
                    deps.computeIfAbsent(pkg, k -> new TreeSet<>()).addAll(sourceReferences(Files.readString(p))));
        }
        for (Set<String> to : deps.values()) {
            to.removeIf(q -> !q.equals("io.vsocksim") && !q.startsWith("io.vsocksim."));
        }
        deps.forEach((from, to) -> to.remove(from));
    }

    /** What to do with one file of a package. */
    @FunctionalInterface
    private interface PackageFile {
        void accept(String pkg, Path file) throws IOException;
    }

    /** Calls {@code f} for each file under {@code root} ending in {@code suffix}, module-info aside. */
    private static void forEachFile(Path root, String suffix, PackageFile f) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s.filter(x -> x.toString().endsWith(suffix))::iterator) {
                String rel = root.relativize(p).toString().replace('\\', '/');
                if (!rel.startsWith("module-info.")) {
                    f.accept(packageOf(rel.substring(0, rel.lastIndexOf('/'))), p);
                }
            }
        }
    }

    private static String packageOf(String internalDir) {
        return internalDir.replace('/', '.');
    }

    @Test
    void shouldPutEveryMainPackageOnExactlyOneFloor() {
        Map<String, Integer> seen = new HashMap<>();
        for (Floor f : FLOORS) {
            for (String p : f.packages()) {
                assertThat(seen.put(p, 0)).as("%s on two floors", p).isNull();
            }
        }
        assertThat(seen.keySet()).as("main packages without a floor").containsAll(deps.keySet());
    }

    @Test
    void shouldNeverDependOnAHigherFloorOrAnIndependentNeighbour() {
        Map<String, Integer> level = new HashMap<>();
        Map<String, Floor> floorOf = new HashMap<>();
        for (int i = 0; i < FLOORS.size(); i++) {
            for (String p : FLOORS.get(i).packages()) {
                level.put(p, i);
                floorOf.put(p, FLOORS.get(i));
            }
        }
        List<String> wrong = new ArrayList<>();
        deps.forEach((from, tos) -> {
            for (String to : tos) {
                Integer a = level.get(from);
                Integer b = level.get(to);
                if (a == null || b == null) {
                    continue; // reported by the floor test
                }
                if (b > a) {
                    wrong.add(from + " -> " + to + " (up from '" + floorOf.get(from).name() + "' to '"
                            + floorOf.get(to).name() + "')");
                } else if (b.equals(a) && floorOf.get(from).independent()) {
                    wrong.add(from + " -> " + to + " (neighbours on '" + floorOf.get(from).name() + "')");
                }
            }
        });
        assertThat(wrong).isEmpty();
    }

    @Test
    void shouldHaveNoPackageCyclesButTheDeclaredOnes() {
        Set<Set<String>> cycles = stronglyConnected(deps).stream().filter(c -> c.size() > 1)
                .collect(Collectors.toSet());
        assertThat(cycles).containsExactlyInAnyOrderElementsOf(CYCLES);
    }

    @Test
    void shouldLetGuestDriverAndDeviceMeetOnlyAboveTheTransports() {
        // The guest driver and vhost, like the two ring views, know each other only through the machines'
        // wiring (sim.VhostVsockPci plays the VMM).
        assertThat(deps.get("io.vsocksim.vsock.guest")).doesNotContain("io.vsocksim.vsock.vhost", "io.vsocksim.vhost");
        assertThat(deps.get("io.vsocksim.vsock.vhost")).doesNotContain("io.vsocksim.vsock.guest", "io.vsocksim.virtio");
    }

    /** Tarjan's algorithm over the package graph. */
    static List<Set<String>> stronglyConnected(Map<String, Set<String>> g) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new HashSet<>();
        List<Set<String>> out = new ArrayList<>();
        int[] next = {0};
        for (String v : g.keySet()) {
            if (!index.containsKey(v)) {
                connect(v, g, index, low, stack, onStack, out, next);
            }
        }
        return out;
    }

    private static void connect(String v, Map<String, Set<String>> g, Map<String, Integer> index,
            Map<String, Integer> low, Deque<String> stack, Set<String> onStack, List<Set<String>> out, int[] next) {
        index.put(v, next[0]);
        low.put(v, next[0]);
        next[0]++;
        stack.push(v);
        onStack.add(v);
        for (String w : g.getOrDefault(v, Set.of())) {
            if (!index.containsKey(w)) {
                connect(w, g, index, low, stack, onStack, out, next);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> c = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                c.add(w);
            } while (!w.equals(v));
            out.add(c);
        }
    }

    private static final Pattern DESCRIPTOR_CLASS = Pattern.compile("L(io/vsocksim/[\\w/$]+)[;<]");

    /**
     * The classes a class file names: its CONSTANT_Class entries and every class in the descriptors and
     * signatures among its UTF-8 constants (string literals excluded).
     */
    static Set<String> referencedClasses(byte[] b) {
        Set<String> out = new HashSet<>();
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(b))) {
            in.readInt(); // magic
            in.readUnsignedShort();
            in.readUnsignedShort();
            int n = in.readUnsignedShort();
            String[] utf8 = new String[n];
            List<Integer> classNames = new ArrayList<>();
            Set<Integer> literals = new HashSet<>();
            for (int i = 1; i < n; i++) {
                int tag = in.readUnsignedByte();
                switch (tag) {
                    case 1 -> utf8[i] = in.readUTF();
                    case 3, 4 -> in.readInt();
                    case 5, 6 -> {
                        in.readLong();
                        i++;
                    }
                    case 7 -> classNames.add(in.readUnsignedShort());
                    case 8 -> literals.add(in.readUnsignedShort());
                    case 9, 10, 11, 12, 17, 18 -> in.readInt();
                    case 15 -> {
                        in.readUnsignedByte();
                        in.readUnsignedShort();
                    }
                    case 16, 19, 20 -> in.readUnsignedShort();
                    default -> throw new IllegalStateException("constant pool tag " + tag);
                }
            }
            for (int i : classNames) {
                String s = utf8[i];
                if (s.startsWith("io/vsocksim/")) {
                    out.add(s);
                }
            }
            for (int i = 1; i < n; i++) {
                if (utf8[i] != null && !literals.contains(i)) {
                    Matcher m = DESCRIPTOR_CLASS.matcher(utf8[i]);
                    while (m.find()) {
                        out.add(m.group(1));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static final Pattern COMMENT_OR_STRING =
            Pattern.compile("/\\*.*?\\*/|//[^\\n]*|\"(?:\\\\.|[^\"\\\\])*\"|'(?:\\\\.|[^'\\\\])'", Pattern.DOTALL);
    private static final Pattern QUALIFIED = Pattern.compile("\\bio\\.vsocksim((?:\\.[a-z][a-z0-9_]*)*)\\.[A-Z*]");

    /** The packages a source file names in imports and qualified names (comments and literals excluded). */
    static Set<String> sourceReferences(String src) {
        String code = COMMENT_OR_STRING.matcher(src).replaceAll(" ");
        Set<String> out = new HashSet<>();
        Matcher m = QUALIFIED.matcher(code);
        while (m.find()) {
            out.add("io.vsocksim" + m.group(1));
        }
        return out;
    }
}
