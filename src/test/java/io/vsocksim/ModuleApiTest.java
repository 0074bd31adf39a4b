package io.vsocksim;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.sim.Machine;
import java.io.IOException;
import java.io.InputStream;
import java.lang.annotation.Annotation;
import java.lang.module.ModuleDescriptor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The module's front door, read from the compiled descriptor: exactly these packages are exported, and
 * nothing an exported package shows (a public or protected signature, a supertype, an annotation) names a
 * type of an unexported package. {@code -Xlint:exports} says the same at compile time; this test keeps it
 * from rotting.
 */
class ModuleApiTest {
    /** The API: what an embedder may use. Adding a package here is an API decision. */
    static final Set<String> EXPORTED = Set.of(
            "io.vsocksim",              // @Linux, @NotUpstream, LinuxVersion: the citations on the API
            "io.vsocksim.uapi",         // the kernel's numbers and structs (the user ABI)
            "io.vsocksim.sim",          // machines
            "io.vsocksim.user",         // processes, sockets, addresses, the java.net face, faults
            "io.vsocksim.user.nio",     // the NIO face
            "io.vsocksim.user.bridge",  // hybrid vsock
            "io.vsocksim.user.junit");  // the JUnit 5 extension

    static Path classes() {
        try {
            return Path.of(Machine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    static ModuleDescriptor descriptor() throws IOException {
        try (InputStream in = Files.newInputStream(classes().resolve("module-info.class"))) {
            return ModuleDescriptor.read(in);
        }
    }

    @Test
    void shouldExportExactlyTheApiPackagesWhenReadFromTheCompiledDescriptor() throws IOException {
        ModuleDescriptor d = descriptor();
        assertThat(d.name()).isEqualTo("io.vsocksim");
        assertThat(d.exports()).allSatisfy(e -> assertThat(e.isQualified()).as("qualified export %s", e).isFalse());
        assertThat(d.exports().stream().map(ModuleDescriptor.Exports::source).collect(Collectors.toSet()))
                .containsExactlyInAnyOrderElementsOf(EXPORTED);
        assertThat(d.opens().stream().map(ModuleDescriptor.Opens::toString))
                .containsExactlyInAnyOrder("io.vsocksim.testsuite to [info.picocli]", "io.vsocksim.tools to [info.picocli]");
        assertThat(d.requires().stream().filter(r -> !r.modifiers().contains(ModuleDescriptor.Requires.Modifier.STATIC)
                        && !r.modifiers().contains(ModuleDescriptor.Requires.Modifier.MANDATED))
                .map(ModuleDescriptor.Requires::name))
                .as("what an embedder's module path must hold").containsExactly("org.slf4j");
    }

    @Test
    void shouldNameOnlyExportedOrJdkTypesWhenAnExportedPackageShowsASignature() throws Exception {
        List<String> leaks = new ArrayList<>();
        for (Class<?> c : exportedTypes()) {
            check("supertype of " + c.getName(), c.getGenericSuperclass(), leaks);
            for (Type i : c.getGenericInterfaces()) {
                check("interface of " + c.getName(), i, leaks);
            }
            annotations(c.getName(), c.getAnnotations(), leaks);
            for (TypeVariable<?> v : c.getTypeParameters()) {
                for (Type b : v.getBounds()) {
                    check("type parameter of " + c.getName(), b, leaks);
                }
            }
            for (Field f : c.getDeclaredFields()) {
                if (visible(c, f)) {
                    check(f.toString(), f.getGenericType(), leaks);
                    annotations(f.toString(), f.getAnnotations(), leaks);
                }
            }
            List<Executable> calls = new ArrayList<>(List.of(c.getDeclaredMethods()));
            calls.addAll(List.of(c.getDeclaredConstructors()));
            for (Executable m : calls) {
                if (!visible(c, m) || m.isSynthetic()) {
                    continue;
                }
                if (m instanceof Method method) {
                    check(m.toString(), method.getGenericReturnType(), leaks);
                }
                for (Type p : m.getGenericParameterTypes()) {
                    check(m.toString(), p, leaks);
                }
                for (Type x : m.getGenericExceptionTypes()) {
                    check(m.toString(), x, leaks);
                }
                for (TypeVariable<?> v : m.getTypeParameters()) {
                    for (Type b : v.getBounds()) {
                        check(m.toString(), b, leaks);
                    }
                }
                annotations(m.toString(), m.getAnnotations(), leaks);
            }
            if (c.isRecord()) {
                for (RecordComponent rc : c.getRecordComponents()) {
                    check(rc.toString(), rc.getGenericType(), leaks);
                }
            }
        }
        assertThat(leaks).as("API signatures naming an unexported type").isEmpty();
    }

    /** Every public type (nested ones whose enclosing types are public too) of the exported packages. */
    static List<Class<?>> exportedTypes() throws IOException, ClassNotFoundException {
        Path root = classes();
        List<Class<?>> out = new ArrayList<>();
        Set<String> names = new TreeSet<>();
        for (String pkg : EXPORTED) {
            Path dir = root.resolve(pkg.replace('.', '/'));
            try (Stream<Path> s = Files.list(dir)) {
                s.map(p -> p.getFileName().toString())
                        .filter(n -> n.endsWith(".class") && !n.equals("package-info.class"))
                        .forEach(n -> names.add(pkg + "." + n.substring(0, n.length() - ".class".length())));
            }
        }
        for (String n : names) {
            Class<?> c = Class.forName(n, false, ModuleApiTest.class.getClassLoader());
            if (apiVisible(c)) {
                out.add(c);
            }
        }
        return out;
    }

    static boolean apiVisible(Class<?> c) {
        if (c.isAnonymousClass() || c.isLocalClass() || c.isSynthetic()) {
            return false;
        }
        for (Class<?> k = c; k != null; k = k.getEnclosingClass()) {
            if (!Modifier.isPublic(k.getModifiers())) {
                return false;
            }
        }
        return true;
    }

    /** Public, or protected in a class that can be subclassed from outside. */
    static boolean visible(Class<?> owner, Member m) {
        int mod = m.getModifiers();
        if (Modifier.isPublic(mod)) {
            return true;
        }
        return Modifier.isProtected(mod) && !Modifier.isFinal(owner.getModifiers()) && !owner.isSealed()
                && !owner.isEnum() && !owner.isRecord();
    }

    private static void annotations(String where, Annotation[] as, List<String> leaks) {
        for (Annotation a : as) {
            check(where, a.annotationType(), leaks);
        }
    }

    private static void check(String where, Type t, List<String> leaks) {
        if (t == null) {
            return;
        }
        if (t instanceof Class<?> c) {
            while (c.isArray()) {
                c = c.getComponentType();
            }
            if (c.isPrimitive()) {
                return;
            }
            String pkg = c.getPackageName();
            boolean jdk = c.getModule().isNamed() && c.getModule().getName().startsWith("java.")
                    || pkg.startsWith("java.") || pkg.startsWith("javax.")
                    // The JUnit extension's package shows JUnit's own extension API, as every extension does.
                    || pkg.startsWith("org.junit.jupiter.api");
            if (!jdk && !EXPORTED.contains(pkg)) {
                leaks.add(where + " names " + c.getName());
            }
            return;
        }
        if (t instanceof ParameterizedType p) {
            check(where, p.getRawType(), leaks);
            for (Type a : p.getActualTypeArguments()) {
                check(where, a, leaks);
            }
        } else if (t instanceof GenericArrayType g) {
            check(where, g.getGenericComponentType(), leaks);
        } else if (t instanceof WildcardType w) {
            for (Type b : w.getUpperBounds()) {
                check(where, b, leaks);
            }
            for (Type b : w.getLowerBounds()) {
                check(where, b, leaks);
            }
        }
        // a type variable's bounds are checked where it is declared
    }
}
